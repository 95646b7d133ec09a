/** LR/HR pairs made here for the `npm run eval` tests when the shared DRealSR pairs are missing. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createImage, type RgbaImage } from '../../engine/image.ts';
import { downscale } from '../../tools/eval/degrade.ts';

/** A smooth colour image with structure (waves, a disc edge, a ramp): what bicubic restores well. */
export function structuredImage(width: number, height: number): RgbaImage {
  const image = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (width / 4) ** 2 ? 40 : 0;
      const base = 60 + 50 * Math.sin(x / 9) * Math.cos(y / 11) + disc + (x / width) * 60;
      const i = (y * width + x) * 4;
      image.data[i] = Math.round(base);
      image.data[i + 1] = Math.round(base * 0.8 + 20 * Math.sin(y / 13));
      image.data[i + 2] = Math.round(255 - base * 0.9);
      image.data[i + 3] = 255;
    }
  }
  return image;
}

/** Writes `img<i>.png` HR images of the given sizes to `<dir>/hr` and their x`scale` downscales to `<dir>/lr`. */
export async function writeGeneratedPairs(
  dir: string,
  sizes: [number, number][],
  scale = 4,
): Promise<{ lrDir: string; hrDir: string }> {
  const lrDir = path.join(dir, 'lr');
  const hrDir = path.join(dir, 'hr');
  fs.mkdirSync(lrDir, { recursive: true });
  fs.mkdirSync(hrDir, { recursive: true });
  const png = (im: RgbaImage, file: string) =>
    sharp(Buffer.from(im.data), { raw: { width: im.width, height: im.height, channels: 4 } })
      .png()
      .toFile(file);
  for (const [i, [w, h]] of sizes.entries()) {
    const hr = structuredImage(w, h);
    await png(hr, path.join(hrDir, `img${i}.png`));
    await png(downscale(hr, scale), path.join(lrDir, `img${i}.png`));
  }
  return { lrDir, hrDir };
}
