/**
 * The ONNX reader over a Node file handle (tools/onnx/model-scan.ts) reads what the browser's
 * Blob source reads: the same interface, the initializers' element types, and the same errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACK_FILES } from '../engine/latent/manifest.ts';
import {
  ONNX_FLOAT,
  ONNX_FLOAT16,
  OnnxParseError,
  readOnnxHeader,
} from '../engine/onnx/onnx-reader.ts';
import { bytesSource } from '../engine/onnx/random-access.ts';
import { convertOnnx } from '../tools/builder/convert-onnx.ts';
import { writePack } from '../tools/builder/pack-dir.ts';
import { EMBEDDINGS_FILE, tinyGendrPack } from '../tools/builder/packs.ts';
import { unetSizeMultiple } from '../tools/builder/unet-manifest.ts';
import { readOnnxFileHeader } from '../tools/onnx/model-scan.ts';
import { blobSource } from '../workers/opfs/random-access.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-onnx-reader-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ONNX reader adapters', () => {
  it('reads the same header from a file, a Blob and bytes', async () => {
    for (const precision of ['fp32', 'fp16'] as const) {
      const bytes = tinyGendrPack({ precision }).files[PACK_FILES.unet];
      const file = path.join(dir, `unet-${precision}.onnx`);
      fs.writeFileSync(file, bytes);
      const fromFile = await readOnnxFileHeader(file);
      expect(fromFile).toEqual(await readOnnxHeader(bytesSource(bytes), file));
      expect(fromFile).toEqual(
        await readOnnxHeader(blobSource(new Blob([new Uint8Array(bytes)])), file),
      );
      expect(fromFile.initializerTypes.has(precision === 'fp16' ? ONNX_FLOAT16 : ONNX_FLOAT)).toBe(
        true,
      );
      expect(fromFile.initializerTypes.has(ONNX_FLOAT16)).toBe(precision === 'fp16');
      expect(fromFile.inputs.map((i) => i.name)).toEqual([
        'sample',
        'timestep',
        'encoder_hidden_states',
      ]);
    }
  });

  it('rejects a cut-short file, naming it', async () => {
    const bytes = tinyGendrPack().files[PACK_FILES.vaeDecoder];
    const file = path.join(dir, 'cut.onnx');
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    const error = await readOnnxFileHeader(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxParseError);
    expect((error as Error).message).toContain(`${file} is not a valid ONNX model: `);
  });
});

describe('UNet size multiple', () => {
  it('is 2 to the number of downsamplings', () => {
    expect([0, 1, 3].map(unetSizeMultiple)).toEqual([1, 2, 8]);
    expect(() => unetSizeMultiple(-1)).toThrow(/whole number/);
  });

  it('convert onnx takes it from the exported unet/config.json, else an SD UNet’s 8', async () => {
    const exported = path.join(dir, 'exported');
    await writePack(exported, tinyGendrPack());
    fs.rmSync(path.join(exported, 'manifest.json'));
    const o = {
      dir: exported,
      preset: 'gendr' as const,
      embeddings: path.join(exported, EMBEDDINGS_FILE),
      id: 'x',
      name: 'X',
      licence: 'MIT',
    };
    expect((await convertOnnx(o)).unet?.sizeMultiple).toBe(8);
    // The tiny UNet halves its latent once: a diffusers config with two blocks says so.
    fs.writeFileSync(
      path.join(exported, 'unet/config.json'),
      JSON.stringify({ _class_name: 'UNet2DConditionModel', block_out_channels: [32, 64] }),
    );
    expect((await convertOnnx(o)).unet?.sizeMultiple).toBe(2);
    fs.writeFileSync(path.join(exported, 'unet/config.json'), '{"block_out_channels": 4}');
    await expect(convertOnnx(o)).rejects.toThrow(/block_out_channels is not a list/);
  });
});
