/**
 * Is upscaling alpha with the model worth its cost over plain resampling? Takes a gray image as an
 * alpha mask (text.png), shrinks it 4x (area average), upscales it back with the model (the
 * engine's alpha path) and with bilinear / bicubic (sharp), and compares PSNR to the original mask.
 *
 *   npx tsx bench/alpha-upscale.ts [model-id]   (default esrgan-slim-x4; needs ../shared)
 */
import path from 'node:path';
import sharp from 'sharp';
import { loadModelIndex, modelFile } from '../tools/cli/builtin-models.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import type { RgbaImage } from '../engine/image.ts';
import { upscaleImage, upscaleOptionsFor } from '../engine/upscale.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const id = process.argv[2] ?? 'esrgan-slim-x4';
const manifest = (await loadModelIndex()).models.find((m) => m.id === id);
if (!manifest) throw new Error(`unknown model ${id}`);
const s = manifest.scale;
const file = sharedPath('images', 'text.png');

// Original mask, cropped to a multiple of the scale.
const meta = await sharp(file).metadata();
const W = Math.floor(meta.width! / s) * s;
const H = Math.floor(meta.height! / s) * s;
const mask = await sharp(file)
  .extract({ left: 0, top: 0, width: W, height: H })
  .toColourspace('b-w')
  .raw()
  .toBuffer();
const small = await sharp(mask, { raw: { width: W, height: H, channels: 1 } })
  .resize(W / s, H / s, { kernel: 'linear' })
  .toColourspace('b-w')
  .raw()
  .toBuffer();
const w = W / s;
const h = H / s;

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

// Model: a mid-gray image whose alpha is the small mask.
const rgba = new Uint8ClampedArray(w * h * 4);
for (let i = 0; i < w * h; i++) rgba.set([128, 128, 128, small[i]], i * 4);
const image: RgbaImage = { width: w, height: h, data: rgba };
const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
const session = await runtime.createSession(modelFile(manifest));
const t0 = performance.now();
const out = await upscaleImage(session, runtime, image, {
  ...upscaleOptionsFor(manifest),
  tileSize: 1024,
});
const modelMs = performance.now() - t0;
const modelAlpha = Array.from({ length: W * H }, (_, i) => out.data[i * 4 + 3]);

const results: [string, number, number][] = [
  [`model ${id} (RGB + alpha passes)`, psnr(mask, modelAlpha), modelMs],
];
for (const kernel of ['linear', 'cubic', 'lanczos3'] as const) {
  const t = performance.now();
  const up = await sharp(small, { raw: { width: w, height: h, channels: 1 } })
    .resize(W, H, { kernel })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  results.push([kernel, psnr(mask, up), performance.now() - t]);
}
console.log(`${path.basename(file)} as alpha, ${W}x${H} -> ${w}x${h} -> x${s}`);
for (const [name, db, ms] of results)
  console.log(`${name.padEnd(40)} ${db.toFixed(2)} dB  ${ms.toFixed(0)} ms`);
