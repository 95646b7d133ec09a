/**
 * Conversions between RGBA pixels and the NCHW float tensors the models take and return.
 */
import type { Rect, RgbaImage } from './image.ts';

export type ValueRange = readonly [number, number];

/**
 * Reads `rect` of `image` into a 3 x h x w float plane set scaled to `range`. With `source` 'alpha'
 * the alpha channel is copied into all three planes (a gray image).
 */
export function readTile(
  image: RgbaImage,
  rect: Rect,
  range: ValueRange,
  source: 'rgb' | 'alpha' = 'rgb',
): Float32Array {
  const [lo, hi] = range;
  const k = (hi - lo) / 255;
  const plane = rect.width * rect.height;
  const out = new Float32Array(plane * 3);
  const d = image.data;
  let i = 0;
  for (let y = 0; y < rect.height; y++) {
    let o = ((rect.y + y) * image.width + rect.x) * 4;
    for (let x = 0; x < rect.width; x++, i++, o += 4) {
      if (source === 'alpha') {
        const a = lo + k * d[o + 3];
        out[i] = a;
        out[plane + i] = a;
        out[2 * plane + i] = a;
      } else {
        out[i] = lo + k * d[o];
        out[plane + i] = lo + k * d[o + 1];
        out[2 * plane + i] = lo + k * d[o + 2];
      }
    }
  }
  return out;
}

/**
 * Clips a model's 3-plane output to `range` and rescales it, in place, to 0..255 floats. Returns the
 * three planes.
 */
export function outputPlanes(data: Float32Array, plane: number, range: ValueRange): Float32Array[] {
  if (data.length !== plane * 3)
    throw new Error(`expected ${plane * 3} output values, got ${data.length}`);
  const [lo, hi] = range;
  const k = 255 / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    data[i] = v <= lo ? 0 : v >= hi ? 255 : (v - lo) * k;
  }
  return [0, 1, 2].map((c) => data.subarray(c * plane, (c + 1) * plane));
}

/** The per-pixel mean of three planes (how a gray image comes back out of an RGB model). */
export function meanPlane(planes: readonly Float32Array[]): Float32Array {
  const [r, g, b] = planes;
  const out = new Float32Array(r.length);
  for (let i = 0; i < out.length; i++) out[i] = (r[i] + g[i] + b[i]) / 3;
  return out;
}

/** True when every pixel that is not fully transparent has R = G = B. */
export function isGrayscale(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] !== 0 && (d[i] !== d[i + 1] || d[i] !== d[i + 2])) return false;
  }
  return true;
}

/**
 * Keeps flat alpha flat: where an input pixel and its 8 neighbours (those inside the image) all
 * have alpha 0 or all 255, its scale x scale output pixels get exactly that alpha. Models are not
 * perfectly calibrated (all-255 in can come out as 254.4), which would otherwise make opaque
 * regions faintly transparent. Only depends on the input image, so tiling stays exact.
 *
 * `plane` is the alpha output (0..255 floats) of the tile whose input window is `rect`.
 */
export function snapFlatAlpha(
  plane: Float32Array,
  image: RgbaImage,
  rect: Rect,
  scale: number,
): void {
  const { width: w, height: h, data } = image;
  const outW = rect.width * scale;
  for (let ty = 0; ty < rect.height; ty++) {
    const y = rect.y + ty;
    for (let tx = 0; tx < rect.width; tx++) {
      const x = rect.x + tx;
      const a = data[(y * w + x) * 4 + 3];
      if (a !== 0 && a !== 255) continue;
      let flat = true;
      for (let dy = -1; dy <= 1 && flat; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w && data[(yy * w + xx) * 4 + 3] !== a) {
            flat = false;
            break;
          }
        }
      }
      if (!flat) continue;
      for (let sy = 0; sy < scale; sy++) {
        plane.fill(
          a,
          (ty * scale + sy) * outW + tx * scale,
          (ty * scale + sy) * outW + (tx + 1) * scale,
        );
      }
    }
  }
}
