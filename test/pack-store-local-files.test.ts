/** Installing from local files: finding manifest.json and matching files by path, or by name and size. */
import { describe, expect, it } from 'vitest';
import { PackInstallError } from '../workers/pack-store/errors.ts';
import { findManifest, matchPackFiles, type LocalFile } from '../workers/pack-store/local-files.ts';
import { checkQuota, QUOTA_MARGIN_BYTES } from '../workers/pack-store/quota.ts';

const blob = (size: number) => new Blob([new Uint8Array(size)]);
const listed = {
  'vae_encoder/model.onnx': { bytes: 10 },
  'unet/model.onnx': { bytes: 30 },
  'vae_decoder/model.onnx': { bytes: 20 },
  'prompt_embeds.safetensors': { bytes: 5 },
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('local pack files', () => {
  it('matches a picked folder by relative path, even where sizes collide', () => {
    const files: LocalFile[] = [
      { path: 'pack/manifest.json', file: blob(1) },
      { path: 'pack/vae_encoder/model.onnx', file: blob(10) },
      { path: 'pack/unet/model.onnx', file: blob(30) },
      { path: 'pack/vae_decoder/model.onnx', file: blob(20) },
      { path: 'pack/prompt_embeds.safetensors', file: blob(5) },
      { path: 'pack/old/manifest.json', file: blob(1) },
    ];
    const manifest = findManifest(files)!;
    expect(manifest.path).toBe('pack/manifest.json');
    const matched = matchPackFiles(listed, files, manifest.path);
    for (const [path, entry] of Object.entries(listed))
      expect(matched.get(path)?.size, path).toBe(entry.bytes);
    expect(matched.get('unet/model.onnx')).toBe(files[2].file);
  });

  it('matches loose dropped files by name and size', () => {
    const files: LocalFile[] = [
      { path: 'model.onnx', file: blob(20) },
      { path: 'manifest.json', file: blob(1) },
      { path: 'model.onnx', file: blob(10) },
      { path: 'prompt_embeds.safetensors', file: blob(5) },
      { path: 'model.onnx', file: blob(30) },
    ];
    const matched = matchPackFiles(listed, files, findManifest(files)!.path);
    expect(matched.get('vae_encoder/model.onnx')).toBe(files[2].file);
    expect(matched.get('vae_decoder/model.onnx')).toBe(files[0].file);
    expect(matched.get('unet/model.onnx')).toBe(files[4].file);
  });

  it('names the missing file, or the file whose size is wrong', () => {
    const files: LocalFile[] = [
      { path: 'manifest.json', file: blob(1) },
      { path: 'model.onnx', file: blob(10) },
      { path: 'model.onnx', file: blob(30) },
      { path: 'prompt_embeds.safetensors', file: blob(5) },
    ];
    const missing = thrown(() => matchPackFiles(listed, files, 'manifest.json'));
    expect(missing).toBeInstanceOf(PackInstallError);
    expect(missing).toMatchObject({ code: 'missing-file', file: 'vae_decoder/model.onnx' });

    const wrongSize = thrown(() =>
      matchPackFiles(listed, [...files, { path: 'model.onnx', file: blob(21) }], 'manifest.json'),
    );
    expect(wrongSize).toMatchObject({ code: 'size-mismatch', file: 'vae_decoder/model.onnx' });
    expect((wrongSize as Error).message).toMatch(/no model\.onnx of 20 bytes .*21 bytes/);
  });

  it('refuses to guess between two same-named files of the same size', () => {
    const same = { 'a/model.onnx': { bytes: 10 }, 'b/model.onnx': { bytes: 10 } };
    const files: LocalFile[] = [
      { path: 'manifest.json', file: blob(1) },
      { path: 'model.onnx', file: blob(10) },
      { path: 'model.onnx', file: blob(10) },
    ];
    expect(() => matchPackFiles(same, files, 'manifest.json')).toThrow(/could be it/);
  });

  it('finds no manifest among files without one', () => {
    expect(findManifest([{ path: 'model.onnx', file: blob(1) }])).toBeNull();
  });
});

describe('storage quota', () => {
  it('says how much space a pack needs and how much is free', () => {
    const MB = 1024 * 1024;
    const error = checkQuota('Big pack', 200 * MB, { quota: 100 * MB, usage: 20 * MB });
    expect(error).toBeInstanceOf(PackInstallError);
    expect(error?.code).toBe('quota');
    expect(error?.message).toMatch(/needs 201 MB, and only 80 MB is free/);
    expect(error?.message).toMatch(/Free 121 MB/);
    expect(checkQuota('Small', 10 * MB, { quota: 100 * MB, usage: 20 * MB })).toBeNull();
    expect(
      checkQuota('Edge', 80 * MB - QUOTA_MARGIN_BYTES + 1, { quota: 100 * MB, usage: 20 * MB }),
    ).not.toBeNull();
    expect(checkQuota('Unknown', 10 * MB, {})).toBeNull();
  });
});
