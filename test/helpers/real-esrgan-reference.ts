/**
 * An independent float64 forward pass of the two Real-ESRGAN architectures, written from their
 * published PyTorch definitions (basicsr RRDBNet, realesrgan SRVGGNetCompact), reading the ncnn
 * weights with its own minimal reader: the convolutions and PReLUs of the .param in file order,
 * each taking its blobs from the .bin in turn. It shares no code with tools/ncnn/.
 */

export interface Conv {
  kind: 'conv';
  out: number;
  in: number;
  k: number;
  w: Float64Array;
  b: Float64Array;
}
export interface Prelu {
  kind: 'prelu';
  slope: Float64Array;
}

/** CHW float64 image. */
export interface Chw {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

function half(h: number): number {
  const e = (h >> 10) & 31;
  const f = h & 1023;
  const v = e === 0 ? f / 16777216 : (1 + f / 1024) * Math.pow(2, e - 15);
  return h & 0x8000 ? -v : v;
}

/** Reads every Convolution and PReLU's weights; throws unless the .bin is used to its last byte. */
/** An RGBA image as the networks' input: RGB planes of v / 255, rounded to float32 like the models' input. */
export function toChw(image: { width: number; height: number; data: ArrayLike<number> }): Chw {
  const n = image.width * image.height;
  const data = new Float64Array(3 * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) data[c * n + i] = Math.fround(image.data[4 * i + c] / 255);
  return { c: 3, h: image.height, w: image.width, data };
}

export function readWeights(paramText: string, bin: Uint8Array): (Conv | Prelu)[] {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let at = 0;
  const f32 = (n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
    at += 4 * n;
    return out;
  };
  const layers: (Conv | Prelu)[] = [];
  for (const line of paramText.split('\n')) {
    const f = line.trim().split(/\s+/);
    const kv = new Map(
      f.filter((s) => /^\d+=/.test(s)).map((s) => s.split('=') as [string, string]),
    );
    if (f[0] === 'Convolution') {
      const out = Number(kv.get('0'));
      const k = Number(kv.get('1'));
      const size = Number(kv.get('6'));
      const tag = view.getUint32(at, true);
      at += 4;
      let w: Float64Array;
      if (tag === 0x01306b47) {
        w = new Float64Array(size);
        for (let i = 0; i < size; i++) w[i] = half(view.getUint16(at + 2 * i, true));
        at += Math.ceil((size * 2) / 4) * 4;
      } else if (tag === 0) {
        w = f32(size);
      } else throw new Error(`weight tag ${tag}`);
      const b = kv.get('5') === '1' ? f32(out) : new Float64Array(out);
      layers.push({ kind: 'conv', out, in: size / out / k / k, k, w, b });
    } else if (f[0] === 'PReLU') {
      layers.push({ kind: 'prelu', slope: f32(Number(kv.get('0'))) });
    }
  }
  if (at !== bin.length) throw new Error(`read ${at} of ${bin.length} bytes`);
  return layers;
}

/** Stride-1 'same' convolution with zero padding. */
export function conv(x: Chw, layer: Conv): Chw {
  const { h, w } = x;
  const { k, out: co } = layer;
  if (x.c !== layer.in) throw new Error(`conv: ${x.c} channels, expects ${layer.in}`);
  const p = (k - 1) / 2;
  const y = new Float64Array(co * h * w);
  for (let o = 0; o < co; o++) {
    const yo = o * h * w;
    y.fill(layer.b[o], yo, yo + h * w);
    for (let c = 0; c < x.c; c++) {
      const xc = c * h * w;
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const wv = layer.w[((o * x.c + c) * k + dy) * k + dx];
          const ox = dx - p;
          const x0 = Math.max(0, -ox);
          const x1 = Math.min(w, w - ox);
          for (let r = Math.max(0, p - dy); r < Math.min(h, h + p - dy); r++) {
            const src = xc + (r + dy - p) * w + ox;
            const dst = yo + r * w;
            for (let q = x0; q < x1; q++) y[dst + q] += wv * x.data[src + q];
          }
        }
      }
    }
  }
  return { c: co, h, w, data: y };
}

const map = (x: Chw, f: (v: number, i: number) => number): Chw => ({
  ...x,
  data: x.data.map(f),
});
const lrelu = (x: Chw) => map(x, (v) => (v >= 0 ? v : 0.2 * v));
const axpy = (a: number, x: Chw, y: Chw) => map(x, (v, i) => a * v + y.data[i]);
function cat(xs: Chw[]): Chw {
  const data = new Float64Array(xs.reduce((n, x) => n + x.data.length, 0));
  let at = 0;
  for (const x of xs) {
    data.set(x.data, at);
    at += x.data.length;
  }
  return { c: xs.reduce((n, x) => n + x.c, 0), h: xs[0].h, w: xs[0].w, data };
}
export function nearest(x: Chw, s: number): Chw {
  const H = x.h * s;
  const W = x.w * s;
  const data = new Float64Array(x.c * H * W);
  for (let c = 0; c < x.c; c++)
    for (let r = 0; r < H; r++)
      for (let q = 0; q < W; q++)
        data[(c * H + r) * W + q] = x.data[(c * x.h + Math.floor(r / s)) * x.w + Math.floor(q / s)];
  return { c: x.c, h: H, w: W, data };
}

/**
 * basicsr RRDBNet(num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_grow_ch=32), num_block
 * from the weights: 23 (x4plus) or 6 (x4plus-anime).
 */
export function rrdbnet(layers: (Conv | Prelu)[], x: Chw, scale = 4): Chw {
  const convs = layers.filter((l): l is Conv => l.kind === 'conv');
  const blocks = (convs.length - 6) / 15;
  if (!Number.isInteger(blocks) || blocks < 1) throw new Error(`RRDBNet: ${convs.length} convs`);
  if (scale !== 4) throw new Error(`RRDBNet: scale ${scale}`);
  let next = 0;
  const take = () => convs[next++];
  const feat = conv(x, take());
  let body = feat;
  for (let b = 0; b < blocks; b++) {
    const rrdbIn = body;
    let y = body;
    for (let d = 0; d < 3; d++) {
      const x0 = y;
      const x1 = lrelu(conv(x0, take()));
      const x2 = lrelu(conv(cat([x0, x1]), take()));
      const x3 = lrelu(conv(cat([x0, x1, x2]), take()));
      const x4 = lrelu(conv(cat([x0, x1, x2, x3]), take()));
      const x5 = conv(cat([x0, x1, x2, x3, x4]), take());
      y = axpy(0.2, x5, x0);
    }
    body = axpy(0.2, y, rrdbIn);
  }
  let f = axpy(1, conv(body, take()), feat);
  f = lrelu(conv(nearest(f, 2), take()));
  f = lrelu(conv(nearest(f, 2), take()));
  return conv(lrelu(conv(f, take())), take());
}

/**
 * realesrgan SRVGGNetCompact(num_feat=64, upscale=4, act_type='prelu'), num_conv from the weights:
 * 32 (general-x4v3) or 16 (animevideov3). An `outScale` other than the net's (the x2 / x3
 * animevideov3 files) resizes its output as F.interpolate(mode='bicubic', align_corners=False).
 */
export function srvggnetCompact(layers: (Conv | Prelu)[], x: Chw, outScale?: number): Chw {
  const convs = layers.filter((l): l is Conv => l.kind === 'conv');
  const prelus = layers.filter((l): l is Prelu => l.kind === 'prelu');
  const last = convs.length - 1;
  if (prelus.length !== last) throw new Error('SRVGGNetCompact: layers');
  let y = x;
  for (let i = 0; i < last; i++) {
    y = conv(y, convs[i]);
    const s = prelus[i].slope;
    const hw = y.h * y.w;
    y = map(y, (v, j) => (v >= 0 ? v : s[Math.floor(j / hw)] * v));
  }
  y = conv(y, convs[last]);
  // pixel_shuffle(r): out[c, r h + i, r w + j] = in[r² c + r i + j, h, w]
  const r = Math.sqrt(y.c / 3);
  if (!Number.isInteger(r)) throw new Error(`SRVGGNetCompact: ${y.c} output channels`);
  const H = y.h * r;
  const W = y.w * r;
  const ps = new Float64Array(3 * H * W);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++)
        for (let h = 0; h < y.h; h++)
          for (let w = 0; w < y.w; w++)
            ps[(c * H + h * r + i) * W + w * r + j] =
              y.data[((c * r * r + i * r + j) * y.h + h) * y.w + w];
  const out = axpy(1, { c: 3, h: H, w: W, data: ps }, nearest(x, r));
  return outScale === undefined || outScale === r
    ? out
    : bicubic(out, Math.round(x.h * outScale), Math.round(x.w * outScale));
}

/** Keys' cubic convolution weights (a = -0.75, as PyTorch) for taps -1, 0, 1, 2 at offset t. */
function cubicWeights(t: number): number[] {
  const a = -0.75;
  const near = (d: number) => ((a + 2) * d - (a + 3)) * d * d + 1;
  const far = (d: number) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * PyTorch's bicubic resize (align_corners=False, no antialias): output X samples the input at
 * (X + 0.5) * in / out - 0.5, reading indices clamped to the image. Rows, then columns.
 */
export function bicubic(x: Chw, outH: number, outW: number): Chw {
  const along = (n: number, out: number) =>
    Array.from({ length: out }, (_, o) => {
      const src = ((o + 0.5) * n) / out - 0.5;
      const i0 = Math.floor(src);
      const w = cubicWeights(src - i0);
      return w.map((wk, k) => [Math.min(n - 1, Math.max(0, i0 - 1 + k)), wk] as const);
    });
  const rows = along(x.h, outH);
  const cols = along(x.w, outW);
  const data = new Float64Array(x.c * outH * outW);
  for (let c = 0; c < x.c; c++)
    for (let r = 0; r < outH; r++)
      for (let q = 0; q < outW; q++) {
        let v = 0;
        for (const [i, wi] of rows[r])
          for (const [j, wj] of cols[q]) v += wi * wj * x.data[(c * x.h + i) * x.w + j];
        data[(c * outH + r) * outW + q] = v;
      }
  return { c: x.c, h: outH, w: outW, data };
}
