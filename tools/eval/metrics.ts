/**
 * Super-resolution metrics as the literature (and pyiqa) computes them: on the luma channel Y of
 * BT.601 (MATLAB rgb2ycbcr: Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1], so Y
 * is in [16, 235]), optionally with `border` pixels cropped on every side.
 * SSIM is Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L 255, valid part
 * only, with the contrast-structure term clamped at 0 as pyiqa does. See docs/eval.md.
 */
import type { RgbaImage } from '../../engine/image.ts';

export interface LumaPlane {
  width: number;
  height: number;
  data: Float64Array;
}

export interface LumaOptions {
  /** Pixels cropped on each side (default 0). */
  border?: number;
  /**
   * 'ycbcr': MATLAB rgb2ycbcr Y in [16, 235] (default); 'yiq': Y of YIQ, 0.299 R + 0.587 G +
   * 0.114 B in [0, 255] (pyiqa's default for NIQE).
   */
  space?: 'ycbcr' | 'yiq';
  /** Round Y to integers, as pyiqa does for SSIM and NIQE (default false). */
  round?: boolean;
}

/** Y of BT.601 (studio range), cropped by `border` on each side. */
export function luma(image: RgbaImage, border = 0): LumaPlane {
  return lumaPlane(image, { border });
}

export function lumaPlane(image: RgbaImage, opts: LumaOptions = {}): LumaPlane {
  const border = opts.border ?? 0;
  const yiq = opts.space === 'yiq';
  const round = opts.round ?? false;
  const width = image.width - 2 * border;
  const height = image.height - 2 * border;
  if (width <= 0 || height <= 0)
    throw new Error(`image ${image.width}x${image.height} is too small for a ${border} px border`);
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = ((y + border) * image.width + (x + border)) * 4;
      const d = image.data;
      const v = yiq
        ? 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]
        : 16 + (65.481 * d[i] + 128.553 * d[i + 1] + 24.966 * d[i + 2]) / 255;
      data[y * width + x] = round ? Math.round(v) : v;
    }
  }
  return { width, height, data };
}

function sameSize(a: LumaPlane, b: LumaPlane): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

/** PSNR in dB with peak 255 (Infinity for identical planes). */
export function psnr(a: LumaPlane, b: LumaPlane): number {
  sameSize(a, b);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i] - b.data[i]) ** 2;
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function gaussianWindow(size = 11, sigma = 1.5): Float64Array {
  const w = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) sum += w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  return w.map((v) => v / sum);
}

/** Separable 'valid' filtering with a symmetric 1-D window. */
function filterValid(
  src: Float64Array,
  width: number,
  height: number,
  w: Float64Array,
): { data: Float64Array; width: number; height: number } {
  const n = w.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  const tmp = new Float64Array(ow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += w[k] * src[y * width + x + k];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += w[k] * tmp[(y + k) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return { data: out, width: ow, height: oh };
}

export function ssim(a: LumaPlane, b: LumaPlane): number {
  sameSize(a, b);
  const w = gaussianWindow();
  if (a.width < w.length || a.height < w.length)
    throw new Error('image too small for SSIM (11x11 window)');
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const n = a.data.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a.data[i] * a.data[i];
    bb[i] = b.data[i] * b.data[i];
    ab[i] = a.data[i] * b.data[i];
  }
  const f = (d: Float64Array) => filterValid(d, a.width, a.height, w).data;
  const mu1 = f(a.data);
  const mu2 = f(b.data);
  const s11 = f(aa);
  const s22 = f(bb);
  const s12 = f(ab);
  let total = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i];
    const m2 = mu2[i];
    const v1 = s11[i] - m1 * m1;
    const v2 = s22[i] - m2 * m2;
    const cov = s12[i] - m1 * m2;
    const cs = Math.max(0, (2 * cov + C2) / (v1 + v2 + C2));
    total += ((2 * m1 * m2 + C1) / (m1 * m1 + m2 * m2 + C1)) * cs;
  }
  return total / mu1.length;
}
