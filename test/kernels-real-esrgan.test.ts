/**
 * The hand-written WASM kernels on the Real-ESRGAN models (RRDBNet: dense blocks read as channel
 * slices, LeakyReLU in the conv epilogue, the folded ×2 upsampling convs; SRVGGNetCompact: PReLU in
 * the epilogue, the CRD pixel shuffle, the nearest-upsampled input added at the end):
 * - against the same ONNX graph on onnxruntime-node: ≤ 1/255, SIMD128 and relaxed SIMD, 1 and 2
 *   threads (threads give identical results);
 * - against the independent float64 reference forward pass written from the published PyTorch
 *   definitions, reading the ncnn weights (test/helpers/real-esrgan-reference.ts): ≤ 1/255 after
 *   8-bit rounding; and through the engine's pipeline, tiled = whole exactly.
 * On the shared photo where ../shared is present, else on a generated image.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createImage, type RgbaImage } from '../engine/image.ts';
import { createKernelSession, plainTensors } from '../engine/kernels/kernel-session.ts';
import { upscaleImage, upscaleOptionsFor } from '../engine/upscale.ts';
import { kernelFile, type Flavour } from '../tools/kernels/build-kernels.ts';
import { spawnNodeHelper } from '../tools/kernels/node-kernel-helper.ts';
import { REAL_ESRGAN_SPECS } from '../tools/ncnn/catalog.ts';
import { realEsrganFiles } from '../tools/ncnn/convert-real-esrgan.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { modelFile, nodeModulesDir, readModelIndex } from './helpers/builtin-models.ts';
import { readWeights, rrdbnet, srvggnetCompact, toChw } from './helpers/real-esrgan-reference.ts';
import { crop } from './helpers/rgba-images.ts';
import { hasShared, sharedPath } from './helpers/shared.ts';

const PHOTO = ['images', 'chelsea.png'] as const;

const CASES = [
  { id: 'realesr-general-x4v3', size: 24, forward: srvggnetCompact },
  { id: 'realesrgan-x4plus', size: 12, forward: rrdbnet },
  { id: 'realesrgan-x4plus-anime', size: 12, forward: rrdbnet },
  // The x2 and x3 anime nets are the x4 net followed by a bicubic downscale.
  { id: 'realesr-animevideov3-x2', size: 16, forward: srvggnetCompact },
  { id: 'realesr-animevideov3-x3', size: 16, forward: srvggnetCompact },
] as const;

async function testImage(size: number): Promise<{ image: RgbaImage; source: string }> {
  if (hasShared(...PHOTO)) {
    const photo = await decodeImage(sharedPath(...PHOTO));
    // A textured crop (the cat's face and fur), not a flat patch.
    return { image: crop(photo, 200, 100, size, size), source: 'chelsea.png' };
  }
  const image = createImage(size, size);
  for (let i = 0; i < size * size; i++)
    for (let c = 0; c < 3; c++)
      image.data[4 * i + c] = Math.round(127.5 + 120 * Math.sin(i * (0.31 + 0.17 * c)));
  for (let i = 0; i < size * size; i++) image.data[4 * i + 3] = 255;
  return { image, source: 'generated' };
}

const wasm = (flavour: Flavour) => fs.readFileSync(kernelFile(flavour));

describe('hand-written WASM kernels on Real-ESRGAN', () => {
  for (const { id, size, forward } of CASES) {
    const manifest = readModelIndex().models.find((m) => m.id === id);
    const spec = REAL_ESRGAN_SPECS.find((s) => s.id === id);
    if (!manifest || !spec) {
      it.skip(`${id} is not built (its npm tarball was not fetched?)`, () => {});
      continue;
    }
    const scale = manifest.scale;
    const bytes = new Uint8Array(fs.readFileSync(modelFile(manifest)));

    it(`${id}: kernels match onnxruntime-node within 1/255 (SIMD128 and relaxed, 1 and 2 threads)`, async () => {
      const { image } = await testImage(size);
      const chw = Float32Array.from(toChw(image).data);
      const dims = [1, 3, size, size];
      const ref = await ort.InferenceSession.create(bytes);
      const want = (await ref.run({ input: new ort.Tensor('float32', chw, dims) })).output
        .data as Float32Array;
      await ref.release();
      const outputs: Float32Array[] = [];
      for (const flavour of ['simd', 'relaxed'] as Flavour[])
        for (const threads of [1, 2]) {
          const session = await createKernelSession(bytes, wasm(flavour), {
            threads,
            spawnHelper: spawnNodeHelper,
          });
          try {
            const out = await session.run({ input: { type: 'float32', data: chw, dims } });
            expect(out.output.dims).toEqual([1, 3, size * scale, size * scale]);
            outputs.push(out.output.data as Float32Array);
          } finally {
            await session.release?.();
          }
        }
      let max = 0;
      for (const got of outputs)
        for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
      console.log(
        `kernels ${id}: max |kernels - onnxruntime-node| = ${(max * 255).toFixed(4)}/255`,
      );
      expect(max).toBeLessThanOrEqual(1 / 255);
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[3]).toEqual(outputs[2]);
    }, 120_000);

    it(`${id}: kernels match the float64 reference within 1/255`, async () => {
      const files = realEsrganFiles(nodeModulesDir, spec);
      const layers = readWeights(
        fs.readFileSync(files.param, 'utf8'),
        new Uint8Array(fs.readFileSync(files.bin)),
      );
      const { image, source } = await testImage(size);
      const x = toChw(image);
      const expected = forward(layers, x, spec.scale);
      const session = await createKernelSession(bytes, wasm('relaxed'));
      try {
        const dims = [1, 3, size, size];
        const out = await session.run({
          input: { type: 'float32', data: Float32Array.from(x.data), dims },
        });
        const got = out.output.data as Float32Array;
        const byte = (v: number) => Math.floor(Math.min(1, Math.max(0, v)) * 255 + 0.5);
        let max = 0;
        for (let i = 0; i < got.length; i++)
          max = Math.max(max, Math.abs(byte(got[i]) - byte(expected.data[i])));
        console.log(`kernels ${id} on ${source}: max |kernels - float64 reference| = ${max}/255`);
        expect(max).toBeLessThanOrEqual(1);
      } finally {
        await session.release?.();
      }
    }, 180_000);
  }

  // Winograd's rounding depends on where a pixel sits in its 6x6 output tile, and a tile of the
  // image starts anywhere: tiled and whole runs agree to float rounding, so a few 8-bit values may
  // differ by one (measured: 3e-5 of the values on a photo, 3e-4 on a synthetic pattern; onnxruntime's direct convolutions give 0/255).
  it('realesr-general-x4v3: tiled = whole through the pipeline on the kernels (≤ 1/255, rarely)', async () => {
    const manifest = readModelIndex().models.find((m) => m.id === 'realesr-general-x4v3');
    if (!manifest) return void console.warn('realesr-general-x4v3 is not built: skipped');
    // Larger than one tile plus the receptive-field margin on each side, so tiles really differ.
    const size = 2 * manifest.tileMargin + 40;
    const { image } = await testImage(size);
    const bytes = new Uint8Array(fs.readFileSync(modelFile(manifest)));
    const session = await createKernelSession(bytes, wasm('relaxed'), {
      threads: 2,
      spawnHelper: spawnNodeHelper,
    });
    try {
      const opts = upscaleOptionsFor(manifest);
      const whole = await upscaleImage(session, plainTensors, image, { ...opts, tileSize: size });
      const tiled = await upscaleImage(session, plainTensors, image, { ...opts, tileSize: 40 });
      expect(tiled.width).toBe(size * 4);
      let max = 0;
      let differ = 0;
      for (let i = 0; i < whole.data.length; i++) {
        const d = Math.abs(whole.data[i] - tiled.data[i]);
        max = Math.max(max, d);
        if (d) differ++;
      }
      console.log(
        `kernels tiled vs whole: max ${max}/255, ${differ} of ${whole.data.length} values differ`,
      );
      expect(max).toBeLessThanOrEqual(1);
      expect(differ / whole.data.length).toBeLessThan(1e-3);
    } finally {
      await session.release?.();
    }
  }, 180_000);
});
