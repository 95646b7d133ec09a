/**
 * Planar float images (channel-major, like an NCHW tensor without the batch) for the latent
 * pipeline, and conversions to and from the engine's RGBA images.
 */
import { createImage, type RgbaImage, type Rect } from '../image.ts';

export interface PlanarImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** channels × height × width values. */
  readonly data: Float32Array;
}

export function createPlanar(channels: number, width: number, height: number): PlanarImage {
  return { channels, width, height, data: new Float32Array(channels * width * height) };
}

/** RGB (and optionally alpha) of an RGBA image as planar values in [0, 1]. */
export function rgbaToPlanar(image: RgbaImage, channels: 3 | 4 = 3): PlanarImage {
  const { width, height, data } = image;
  const n = width * height;
  const out = createPlanar(channels, width, height);
  for (let c = 0; c < channels; c++) {
    const plane = out.data.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) plane[i] = data[i * 4 + c] / 255;
  }
  return out;
}

/**
 * A rectangle of planar RGB in [0, 1] (values clamped) to RGBA bytes; alpha from `alpha`
 * (a one-channel plane of the same full size as `rgb`) or opaque.
 */
export function planarRectToRgba(
  rgb: PlanarImage,
  rect: Rect,
  alpha?: PlanarImage,
): Uint8ClampedArray {
  const { width: W, height: H } = rgb;
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  const n = W * H;
  for (let y = 0; y < rect.height; y++) {
    const row = (rect.y + y) * W + rect.x;
    for (let x = 0; x < rect.width; x++) {
      const s = row + x;
      const d = (y * rect.width + x) * 4;
      out[d] = Math.round(rgb.data[s] * 255);
      out[d + 1] = Math.round(rgb.data[n + s] * 255);
      out[d + 2] = Math.round(rgb.data[2 * n + s] * 255);
      out[d + 3] = alpha ? Math.round(alpha.data[s] * 255) : 255;
    }
  }
  return out;
}

export function planarToRgba(rgb: PlanarImage, alpha?: PlanarImage): RgbaImage {
  const image = createImage(rgb.width, rgb.height);
  image.data.set(
    planarRectToRgba(rgb, { x: 0, y: 0, width: rgb.width, height: rgb.height }, alpha),
  );
  return image;
}

/** Copies a window of a planar image; coordinates outside the source are clamped (edge replicate). */
export function cropPlanar(
  src: PlanarImage,
  x0: number,
  y0: number,
  width: number,
  height: number,
): PlanarImage {
  const out = createPlanar(src.channels, width, height);
  const { width: W, height: H } = src;
  for (let c = 0; c < src.channels; c++) {
    const sp = c * W * H;
    const dp = c * width * height;
    for (let y = 0; y < height; y++) {
      const sy = Math.min(H - 1, Math.max(0, y0 + y));
      const srow = sp + sy * W;
      const drow = dp + y * width;
      if (x0 >= 0 && x0 + width <= W) {
        out.data.set(src.data.subarray(srow + x0, srow + x0 + width), drow);
      } else {
        for (let x = 0; x < width; x++)
          out.data[drow + x] = src.data[srow + Math.min(W - 1, Math.max(0, x0 + x))];
      }
    }
  }
  return out;
}

/** Maps values linearly from [a0, a1] to [b0, b1], in place. */
export function remap(
  data: Float32Array,
  from: readonly [number, number],
  to: readonly [number, number],
): void {
  const k = (to[1] - to[0]) / (from[1] - from[0]);
  if (k === 1 && from[0] === to[0]) return;
  for (let i = 0; i < data.length; i++) data[i] = to[0] + (data[i] - from[0]) * k;
}

export function clampInPlace(data: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    data[i] = x < lo ? lo : x > hi ? hi : x;
  }
}
