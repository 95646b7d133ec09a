/**
 * Pack paths: every name the origin private file system refuses ("Name is not allowed") is refused
 * by the manifest check first, with a message that names the file.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_PACK_PATH_SEGMENT,
  PackManifestError,
  packPathProblem,
  parsePackManifest,
} from '../engine/latent/manifest.ts';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';

const valid = manifestFor(tinyGendrPack());

function withExtraFile(path: string): unknown {
  const copy = structuredClone(valid);
  copy.files[path] = { bytes: 1, sha256: '0'.repeat(64) };
  return copy;
}

function refusal(path: string): string {
  try {
    parsePackManifest(withExtraFile(path));
  } catch (error) {
    expect(error).toBeInstanceOf(PackManifestError);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(path)} was accepted`);
}

describe('pack paths', () => {
  it.each([
    ['a/./b', /“a\/\.\/b” is not a valid pack path: it has a '\.' segment/],
    ['./a', /'\.' segment/],
    ['a/.', /'\.' segment/],
    ['a//b', /“a\/\/b” is not a valid pack path: it has an empty segment/],
    ['a/', /empty segment/],
    ['a/../../b', /'\.\.' segment/],
    ['..', /'\.\.' segment/],
    ['/abs/file', /no leading '\/'/],
    ['a\\b', /U\+005C/],
    ['a\u0000b', /U\+0000/],
    ['sp ace.bin', /U\+0020/],
    ['ümlaut.bin', /U\+00FC/],
    [`${'x'.repeat(MAX_PACK_PATH_SEGMENT + 1)}.bin`, /segment is longer than 255/],
    [`${'abc/'.repeat(300)}x`, /longer than 1024 characters/],
    ['installed.json', /installed\.json is written by the installer/],
    ['manifest.json', /manifest\.json is written by the installer/],
  ])('refuses %j in the manifest check, naming it', (path, reason) => {
    const message = refusal(path);
    expect(message).toMatch(/^manifest\.json: files/);
    expect(message).toMatch(reason);
  });

  it('refuses bad paths wherever the manifest names a file', () => {
    const copy = structuredClone(valid) as unknown as { unet: { embeddings: { file: string } } };
    copy.unet.embeddings.file = 'emb//prompt.safetensors';
    expect(() => parsePackManifest(copy)).toThrow(/unet\.embeddings\.file: “emb\/\/prompt/);
  });

  it('accepts ordinary paths', () => {
    for (const path of ['unet/model.onnx', 'fused/unet/model.onnx', '.hidden/x', 'a..b/c-d_e.bin'])
      expect(packPathProblem(path), path).toBeNull();
    expect(() => parsePackManifest(withExtraFile('extra/data.bin'))).not.toThrow();
    expect(packPathProblem('x'.repeat(MAX_PACK_PATH_SEGMENT))).toBeNull();
  });
});
