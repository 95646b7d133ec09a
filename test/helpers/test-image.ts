/**
 * Deterministic synthetic test images for model tests: smooth colour gradients plus seeded noise,
 * quantized to 8-bit levels and scaled to a model's value range, as planar (NCHW) float32.
 */
import { mulberry32 } from '../../tools/builder/generated/random.ts';

/** A batch-1 planar image: data[c * height * width + y * width + x]. */
export interface PlanarImage {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export const seededRandom = mulberry32;

/** An RGB image of smooth gradients and ±noise/2 noise, 8-bit levels mapped to [0, rangeMax]. */
export function smoothNoiseImage(
  width: number,
  height: number,
  options: { rangeMax?: number; noise?: number; seed?: number } = {},
): PlanarImage {
  const { rangeMax = 255, noise = 0.2, seed = 1 } = options;
  const random = seededRandom(seed);
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = x / width;
        const v = y / height;
        const smooth =
          0.5 + 0.35 * Math.sin(2.1 * u * (c + 1) + 3.3 * v + c) * Math.cos(1.7 * v - u * c);
        const value = Math.min(1, Math.max(0, smooth + noise * (random() - 0.5)));
        data[(c * height + y) * width + x] = (Math.round(value * 255) / 255) * rangeMax;
      }
    }
  }
  return { channels: 3, height, width, data };
}

/** Clips every value into [lo, hi] (a copy). */
export function clipImage(image: PlanarImage, lo: number, hi: number): PlanarImage {
  return { ...image, data: image.data.map((v) => Math.min(hi, Math.max(lo, v))) };
}

/** max |a - b| / max |reference|, failing on a shape mismatch. */
export function relativeMaxDiff(actual: PlanarImage, reference: PlanarImage): number {
  const dims = (i: PlanarImage) => `${i.channels}x${i.height}x${i.width}`;
  if (dims(actual) !== dims(reference))
    throw new Error(`shape ${dims(actual)} vs reference ${dims(reference)}`);
  let diff = 0;
  let peak = 0;
  for (let i = 0; i < reference.data.length; i++) {
    diff = Math.max(diff, Math.abs(actual.data[i] - reference.data[i]));
    peak = Math.max(peak, Math.abs(reference.data[i]));
  }
  if (!(peak > 0)) throw new Error('reference is all zeros');
  return Number.isNaN(diff) ? Infinity : diff / peak;
}
