/**
 * Bicubic resampling of NCHW float planes as ONNX Resize computes it with mode 'cubic',
 * coordinate_transformation_mode 'half_pixel', cubic_coeff_a -0.75 and exclude_outside 0: output
 * pixel X samples the input at (X + 0.5) / factor - 0.5 with Keys' cubic on 4 taps, taps past an
 * edge clamped to the edge pixel. Separable: rows first, then columns. The kernel session runs it
 * for a graph's final downscale (program.ts `finalResize`), then clips.
 */

/** Keys' cubic convolution kernel with a = -0.75 at distance d. */
function keys(d: number): number {
  const a = -0.75;
  const x = Math.abs(d);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

interface Taps {
  index: Int32Array;
  weight: Float32Array;
}

/** For each of `outLength` outputs: 4 clamped input indices and their weights. */
function taps(inLength: number, outLength: number, factor: number): Taps {
  const index = new Int32Array(4 * outLength);
  const weight = new Float32Array(4 * outLength);
  for (let o = 0; o < outLength; o++) {
    const x = (o + 0.5) / factor - 0.5;
    const x0 = Math.floor(x);
    const t = x - x0;
    for (let k = 0; k < 4; k++) {
      index[4 * o + k] = Math.min(inLength - 1, Math.max(0, x0 - 1 + k));
      weight[4 * o + k] = keys(t - (k - 1));
    }
  }
  return { index, weight };
}

/** Resizes `channels` planes of width x height by `factor`, then clips to [lo, hi]. */
export function cubicResize(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  factor: number,
  clip: [number, number],
): { data: Float32Array; width: number; height: number } {
  const ow = Math.floor(width * factor);
  const oh = Math.floor(height * factor);
  const tx = taps(width, ow, factor);
  const ty = taps(height, oh, factor);
  const rows = new Float32Array(height * ow);
  const out = new Float32Array(channels * oh * ow);
  const [lo, hi] = clip;
  for (let c = 0; c < channels; c++) {
    const plane = c * width * height;
    for (let y = 0; y < height; y++) {
      const row = plane + y * width;
      for (let x = 0; x < ow; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += tx.weight[4 * x + k] * src[row + tx.index[4 * x + k]];
        rows[y * ow + x] = v;
      }
    }
    const dst = c * oh * ow;
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += ty.weight[4 * y + k] * rows[ty.index[4 * y + k] * ow + x];
        out[dst + y * ow + x] = Math.min(hi, Math.max(lo, v));
      }
  }
  return { data: out, width: ow, height: oh };
}
