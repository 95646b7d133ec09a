/**
 * Generated RGBA test images (photo-like: gradients, edges, texture and noise) and comparisons.
 */
import type { RgbaImage } from '../../engine/image.ts';
import { mulberry32 } from '../../tools/builder/generated/random.ts';

/** Smooth colour gradients, a hard-edged disc, fine stripes and seeded noise; opaque. */
export function syntheticPhoto(width: number, height: number, seed = 1): RgbaImage {
  const rand = mulberry32(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  const cx = width * 0.6;
  const cy = height * 0.45;
  const r2 = (Math.min(width, height) * 0.3) ** 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r2;
      const stripes = x < width / 3 ? 40 * Math.sin(x * 1.3 + y * 0.4) : 0;
      const o = (y * width + x) * 4;
      const n = () => (rand() - 0.5) * 24;
      data[o] = (inDisc ? 220 : 60 + 150 * u) + stripes + n();
      data[o + 1] = (inDisc ? 90 : 40 + 160 * v) + stripes + n();
      data[o + 2] = (inDisc ? 40 : 200 - 120 * u * v) + n();
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

/** A copy of `image` whose alpha is 255 inside an ellipse and 0 outside (with an antialiased rim). */
export function withEllipseAlpha(image: RgbaImage): RgbaImage {
  const { width, height } = image;
  const data = new Uint8ClampedArray(image.data);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5 - width / 2) / (width * 0.35);
      const dy = (y + 0.5 - height / 2) / (height * 0.35);
      const d = Math.sqrt(dx * dx + dy * dy);
      const o = (y * width + x) * 4;
      data[o + 3] = Math.max(0, Math.min(1, (1 - d) * 8)) * 255;
      // Transparent pixels carry black, as many encoders write them.
      if (data[o + 3] === 0) data.fill(0, o, o + 3);
    }
  }
  return { width, height, data };
}

/** A copy of the rectangle (x, y, w, h) of an image. */
export function crop(image: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(from, from + w * 4), row * w * 4);
  }
  return { width: w, height: h, data };
}

/** Largest absolute difference of any byte (all four channels). */
export function maxAbsDiff(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (d > max) max = d;
  }
  return max;
}
