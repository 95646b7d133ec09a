/**
 * Colour correction of the decoded image against the bicubic-upscaled input, as in StableSR,
 * OSEDiff and GenDR (both on [0, 1] RGB, result clamped):
 *  - AdaIN: each channel's mean and standard deviation (unbiased, +1e-5 in the variance) moved to
 *    the input's. Global statistics: the whole decoded image is needed first.
 *  - wavelet: the output's low frequencies (5 levels of a dilated 3×3 binomial blur, dilation 1..16,
 *    replicated edges) replaced by the input's. Local, with a reach of 31 pixels, so it can be
 *    applied band by band as the decoder finishes rows.
 */
import { clampInPlace, type PlanarImage } from './planar.ts';

export type ColorFix = 'adain' | 'wavelet' | 'none';

export interface ChannelStats {
  mean: Float64Array;
  std: Float64Array;
}

export function channelStats(img: PlanarImage, eps = 1e-5): ChannelStats {
  const n = img.width * img.height;
  const mean = new Float64Array(img.channels);
  const std = new Float64Array(img.channels);
  for (let c = 0; c < img.channels; c++) {
    const p = img.data.subarray(c * n, (c + 1) * n);
    let s = 0;
    for (let i = 0; i < n; i++) s += p[i];
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (p[i] - m) ** 2;
    mean[c] = m;
    std[c] = Math.sqrt(v / Math.max(1, n - 1) + eps);
  }
  return { mean, std };
}

/**
 * AdaIN of rows [y0, y1) of `content` into `out` (same size; may be `content`), given both images'
 * statistics; clamps to [0, 1].
 */
export function adainRows(
  content: PlanarImage,
  contentStats: ChannelStats,
  styleStats: ChannelStats,
  out: PlanarImage,
  y0 = 0,
  y1 = content.height,
): void {
  const { width: W, height: H } = content;
  for (let c = 0; c < content.channels; c++) {
    const k = styleStats.std[c] / contentStats.std[c];
    const b = styleStats.mean[c] - contentStats.mean[c] * k;
    const src = content.data.subarray(c * W * H + y0 * W, c * W * H + y1 * W);
    const dst = out.data.subarray(c * W * H + y0 * W, c * W * H + y1 * W);
    for (let i = 0; i < src.length; i++) dst[i] = src[i] * k + b;
    clampInPlace(dst, 0, 1);
  }
}

/** Whole-image AdaIN, in place. */
export function adainColorFix(content: PlanarImage, style: PlanarImage): void {
  adainRows(content, channelStats(content), channelStats(style), content);
}

/** Reach of the 5-level wavelet low-pass: 1 + 2 + 4 + 8 + 16 pixels. */
export const WAVELET_REACH = 31;
const WAVELET_LEVELS = 5;

/** One dilated 3×3 binomial blur of a width × height plane, replicated edges. */
function blur(
  src: Float32Array,
  w: number,
  h: number,
  d: number,
  out: Float32Array,
  tmp: Float32Array,
): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const l = x - d < 0 ? 0 : x - d;
      const r = x + d >= w ? w - 1 : x + d;
      tmp[row + x] = 0.25 * src[row + l] + 0.5 * src[row + x] + 0.25 * src[row + r];
    }
  }
  for (let y = 0; y < h; y++) {
    const u = (y - d < 0 ? 0 : y - d) * w;
    const c = y * w;
    const b = (y + d >= h ? h - 1 : y + d) * w;
    for (let x = 0; x < w; x++)
      out[c + x] = 0.25 * tmp[u + x] + 0.5 * tmp[c + x] + 0.25 * tmp[b + x];
  }
}

/** The 5-level low-pass of one plane. */
export function waveletLowPass(plane: Float32Array, w: number, h: number): Float32Array {
  let cur = plane;
  const tmp = new Float32Array(w * h);
  let a = new Float32Array(w * h);
  let b = new Float32Array(w * h);
  for (let i = 0; i < WAVELET_LEVELS; i++) {
    blur(cur, w, h, 2 ** i, a, tmp);
    cur = a;
    [a, b] = [b, a];
  }
  return cur;
}

/**
 * Wavelet colour fix of rows [y0, y1) of `content` into `out` (a different buffer of the same
 * size, unless the band is the whole image). Only rows within WAVELET_REACH of the band are read,
 * so band by band gives exactly the whole-image result.
 */
export function waveletRows(
  content: PlanarImage,
  style: PlanarImage,
  out: PlanarImage,
  y0 = 0,
  y1 = content.height,
): void {
  const { width: W, height: H } = content;
  const a = Math.max(0, y0 - WAVELET_REACH);
  const b = Math.min(H, y1 + WAVELET_REACH);
  const h = b - a;
  for (let c = 0; c < content.channels; c++) {
    const cp = content.data.subarray(c * W * H + a * W, c * W * H + b * W);
    const sp = style.data.subarray(c * W * H + a * W, c * W * H + b * W);
    const lowC = waveletLowPass(cp, W, h);
    const lowS = waveletLowPass(sp, W, h);
    const start = (y0 - a) * W;
    const end = (y1 - a) * W;
    const dst = out.data.subarray(c * W * H + a * W, c * W * H + b * W);
    for (let i = start; i < end; i++) {
      const v = cp[i] - lowC[i] + lowS[i];
      dst[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}

/** Whole-image wavelet fix, in place. */
export function waveletColorFix(content: PlanarImage, style: PlanarImage): void {
  waveletRows(content, style, content, 0, content.height);
}
