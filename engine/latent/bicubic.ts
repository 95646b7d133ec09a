/**
 * Bicubic resampling of planar float images, in two flavours:
 *  - 'bicubic-pil': Pillow's Image.resize(BICUBIC): a = −0.5, taps clipped to the image and
 *    renormalized at the edges (what OSEDiff and GenDR's PIL preprocessing do);
 *  - 'bicubic-torch': torch.nn.functional.interpolate(mode='bicubic', align_corners=False):
 *    a = −0.75, edge pixels replicated.
 * Both sample at pixel centres. Downscaling widens the PIL kernel (antialias) like Pillow does.
 */
import { createPlanar, type PlanarImage } from './planar.ts';

export type ResampleKind = 'bicubic-pil' | 'bicubic-torch';

function cubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Per output coordinate: `taps` source indices and weights (zero-padded). */
export interface AxisWeights {
  readonly taps: number;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

export function axisWeights(inSize: number, outSize: number, kind: ResampleKind): AxisWeights {
  const scale = inSize / outSize;
  if (kind === 'bicubic-torch') {
    const taps = 4;
    const index = new Int32Array(outSize * taps);
    const weight = new Float32Array(outSize * taps);
    for (let o = 0; o < outSize; o++) {
      const src = (o + 0.5) * scale - 0.5;
      const i0 = Math.floor(src);
      const t = src - i0;
      for (let k = 0; k < taps; k++) {
        index[o * taps + k] = Math.min(inSize - 1, Math.max(0, i0 - 1 + k));
        weight[o * taps + k] = cubic(t - (k - 1), -0.75);
      }
    }
    return { taps, index, weight };
  }
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
    let sum = 0;
    const w: number[] = [];
    for (let x = xmin; x < xmax; x++) {
      const v = cubic((x - center + 0.5) / filterScale, -0.5);
      w.push(v);
      sum += v;
    }
    for (let k = 0; k < w.length && k < taps; k++) {
      index[o * taps + k] = xmin + k;
      weight[o * taps + k] = sum !== 0 ? w[k] / sum : 0;
    }
  }
  return { taps, index, weight };
}

/** Resizes every channel of a planar image (no clamping: bicubic overshoots stay). */
export function resizePlanar(
  src: PlanarImage,
  outWidth: number,
  outHeight: number,
  kind: ResampleKind,
): PlanarImage {
  const { width: W, height: H, channels: C } = src;
  const wx = axisWeights(W, outWidth, kind);
  const wy = axisWeights(H, outHeight, kind);
  const out = createPlanar(C, outWidth, outHeight);
  const tmp = new Float32Array(outWidth * H);
  for (let c = 0; c < C; c++) {
    const plane = src.data.subarray(c * W * H, (c + 1) * W * H);
    // Horizontal pass.
    for (let y = 0; y < H; y++) {
      const row = y * W;
      for (let o = 0; o < outWidth; o++) {
        let s = 0;
        const base = o * wx.taps;
        for (let k = 0; k < wx.taps; k++)
          s += wx.weight[base + k] * plane[row + wx.index[base + k]];
        tmp[y * outWidth + o] = s;
      }
    }
    // Vertical pass.
    const dst = out.data.subarray(c * outWidth * outHeight, (c + 1) * outWidth * outHeight);
    for (let o = 0; o < outHeight; o++) {
      const base = o * wy.taps;
      const drow = o * outWidth;
      for (let x = 0; x < outWidth; x++) dst[drow + x] = 0;
      for (let k = 0; k < wy.taps; k++) {
        const w = wy.weight[base + k];
        if (w === 0) continue;
        const srow = wy.index[base + k] * outWidth;
        for (let x = 0; x < outWidth; x++) dst[drow + x] += w * tmp[srow + x];
      }
    }
  }
  return out;
}
