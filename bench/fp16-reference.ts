/**
 * What the fp16 measurements of the built-in models share (bench/real-esrgan-fp16.ts on the CPU,
 * bench/real-esrgan-fp16-gpu.ts on WebGPU): photo crops as NCHW float tensors, 8-bit output,
 * PSNR, and a plain-JS interpreter of the Real-ESRGAN graphs that rounds where asked, so f16
 * arithmetic (every partial sum of every convolution rounded to half) can be estimated where
 * no GPU with shader-f16 exists.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { roundToHalf } from '../engine/latent/float16.ts';
import {
  attr,
  clone,
  decode,
  encode,
  floatInitializer,
  graphOf,
  intsAttr,
  onnx,
  setFloatInitializer,
  type NodeProto,
} from '../tools/onnx/onnx-graph.ts';
import { sharedDir } from '../test/helpers/shared.ts';

/** The shared photos the measurements crop (RGB; brick is gray, read as RGB). */
export const FP16_PHOTOS = ['chelsea.png', 'coffee.png', 'brick.png'] as const;

export interface Crop {
  name: string;
  width: number;
  height: number;
  /** NCHW, RGB in 0..1. */
  data: Float32Array;
}

/** A size² crop from the middle of a shared photo. */
export async function photoCrop(photo: string, size: number): Promise<Crop> {
  const file = path.join(sharedDir, 'images', photo);
  const meta = await sharp(file).metadata();
  const left = Math.max(0, Math.floor(((meta.width ?? size) - size) / 2));
  const top = Math.max(0, Math.floor(((meta.height ?? size) - size) / 2));
  const { data } = await sharp(file)
    .extract({ left, top, width: size, height: size })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c] / 255;
  return { name: `${photo} ${size}²`, width: size, height: size, data: out };
}

/** Whether the shared photos are there (the scripts say so and stop when not). */
export async function sharedPhotosMissing(): Promise<string | null> {
  try {
    await readFile(path.join(sharedDir, 'images', FP16_PHOTOS[0]));
    return null;
  } catch {
    return `shared photos not found in ${path.join(sharedDir, 'images')} (set GENDR_SHARED)`;
  }
}

/** A model output (NCHW, 0..1) as 8-bit RGB values, as the engine writes them. */
export function toBytes(output: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(output.length);
  for (let i = 0; i < output.length; i++) {
    out[i] = Math.round(Math.min(1, Math.max(0, output[i])) * 255);
  }
  return out;
}

export interface Comparison {
  /** PSNR over RGB 0..255; Infinity when equal. */
  psnr: number;
  /** Largest difference of one channel value, 0..255. */
  maxDiff: number;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): Comparison {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let se = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    se += d * d;
    if (d > maxDiff) maxDiff = d;
  }
  const psnr = se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length));
  return { psnr, maxDiff };
}

export const formatDb = (db: number): string => (db === Infinity ? '∞' : db.toFixed(1));

/**
 * How the JS reference rounds: 'fp64' not at all; 'fp32' every value and partial sum to float;
 * 'fp16-storage' weights and every op output to half, sums in fp32 (what an fp16 model computes
 * on a runtime that casts to fp32 around its kernels); 'fp16' every value and every partial sum
 * to half (an f16 GPU shader that accumulates in f16).
 */
export type RoundMode = 'fp64' | 'fp32' | 'fp16-storage' | 'fp16';

interface Tensor {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

const identity = (x: number): number => x;

function rounders(mode: RoundMode): { value: (x: number) => number; sum: (x: number) => number } {
  switch (mode) {
    case 'fp64':
      return { value: identity, sum: identity };
    case 'fp32':
      return { value: Math.fround, sum: Math.fround };
    case 'fp16-storage':
      return { value: roundToHalf, sum: Math.fround };
    case 'fp16':
      return { value: roundToHalf, sum: roundToHalf };
  }
}

/**
 * Runs the ONNX model `bytes` (a float32 Real-ESRGAN graph: Conv, PRelu, LeakyRelu, Add, Mul,
 * Concat, Resize nearest, DepthToSpace, Clip, Identity) on `input` in plain JS, rounding as
 * `mode` says. Convolutions sum over input channels, then kernel rows, then columns, then add the
 * bias, rounding after every step. Slow (a few ns per multiply-add): small crops only.
 */
export function runReference(bytes: Uint8Array, input: Crop, mode: RoundMode): Float32Array {
  const model = decode(bytes);
  const g = graphOf(model);
  const r = rounders(mode);
  const roundAll = (a: Float32Array | Float64Array): Float64Array => {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = r.value(a[i]);
    return out;
  };
  const consts = new Map<string, { dims: number[]; data: Float64Array }>();
  for (const t of g.initializer) {
    const f = floatInitializer(model, t.name ?? '');
    if (f) consts.set(t.name ?? '', { dims: f.dims, data: roundAll(f.data) });
  }
  const values = new Map<string, Tensor>();
  const inputName = g.input?.[0]?.name ?? 'input';
  values.set(inputName, {
    c: input.data.length / (input.width * input.height),
    h: input.height,
    w: input.width,
    data: roundAll(input.data),
  });
  const get = (name: string): Tensor => {
    const v = values.get(name);
    if (!v) throw new Error(`reference: value ${name} not computed`);
    return v;
  };
  const constant = (name: string): { dims: number[]; data: Float64Array } => {
    const v = consts.get(name);
    if (!v) throw new Error(`reference: constant ${name} missing`);
    return v;
  };
  const map = (x: Tensor, f: (v: number, c: number) => number): Tensor => {
    const out = new Float64Array(x.data.length);
    const plane = x.h * x.w;
    for (let c = 0; c < x.c; c++)
      for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = r.value(f(x.data[i], c));
    return { ...x, data: out };
  };

  for (const node of g.node) {
    const ins = node.input ?? [];
    let out: Tensor;
    switch (node.opType) {
      case 'Conv': {
        const w = constant(ins[1]);
        const bias = ins[2] ? constant(ins[2]).data : null;
        const [pt, pl] = intsAttr(node, 'pads', [0, 0, 0, 0]);
        out = conv(get(ins[0]), w.dims, w.data, bias, pt, pl, r.sum);
        if (r.value !== r.sum)
          for (let i = 0; i < out.data.length; i++) out.data[i] = r.value(out.data[i]);
        break;
      }
      case 'PRelu': {
        const slope = constant(ins[1]).data;
        out = map(get(ins[0]), (v, c) => (v >= 0 ? v : v * slope[slope.length === 1 ? 0 : c]));
        break;
      }
      case 'LeakyRelu': {
        const alpha = r.value(Number(attr(node, 'alpha') ?? 0.01));
        out = map(get(ins[0]), (v) => (v >= 0 ? v : v * alpha));
        break;
      }
      case 'Relu':
        out = map(get(ins[0]), (v) => Math.max(0, v));
        break;
      case 'Add':
      case 'Mul': {
        const a = get(ins[0]);
        const k = consts.get(ins[1]);
        const b = k ? null : get(ins[1]);
        const scalar = k?.data[0] ?? 0;
        const add = node.opType === 'Add';
        const data = new Float64Array(a.data.length);
        for (let i = 0; i < data.length; i++) {
          const y = b ? b.data[i] : scalar;
          data[i] = r.value(add ? a.data[i] + y : a.data[i] * y);
        }
        out = { ...a, data };
        break;
      }
      case 'Concat': {
        const xs = ins.map(get);
        const data = new Float64Array(xs.reduce((n, x) => n + x.data.length, 0));
        let at = 0;
        for (const x of xs) {
          data.set(x.data, at);
          at += x.data.length;
        }
        out = { c: xs.reduce((n, x) => n + x.c, 0), h: xs[0].h, w: xs[0].w, data };
        break;
      }
      case 'Resize': {
        const x = get(ins[0]);
        const s = constant(ins[2]).data[2];
        const h = x.h * s;
        const wd = x.w * s;
        const data = new Float64Array(x.c * h * wd);
        for (let c = 0; c < x.c; c++)
          for (let y = 0; y < h; y++)
            for (let xx = 0; xx < wd; xx++)
              data[(c * h + y) * wd + xx] =
                x.data[(c * x.h + Math.floor(y / s)) * x.w + Math.floor(xx / s)];
        out = { c: x.c, h, w: wd, data };
        break;
      }
      case 'DepthToSpace': {
        const x = get(ins[0]);
        const b = Number(attr(node, 'blocksize'));
        const crd = attr(node, 'mode') === 'CRD';
        const c = x.c / (b * b);
        const h = x.h * b;
        const wd = x.w * b;
        const data = new Float64Array(x.data.length);
        for (let k = 0; k < c; k++)
          for (let y = 0; y < h; y++)
            for (let xx = 0; xx < wd; xx++) {
              const sub = (y % b) * b + (xx % b);
              const src = crd ? k * b * b + sub : sub * c + k;
              data[(k * h + y) * wd + xx] =
                x.data[(src * x.h + Math.floor(y / b)) * x.w + Math.floor(xx / b)];
            }
        out = { c, h, w: wd, data };
        break;
      }
      case 'Clip': {
        const lo = constant(ins[1]).data[0];
        const hi = constant(ins[2]).data[0];
        out = map(get(ins[0]), (v) => Math.min(hi, Math.max(lo, v)));
        break;
      }
      case 'Identity':
        out = get(ins[0]);
        break;
      default:
        throw new Error(`reference: operator ${node.opType} not implemented`);
    }
    values.set(node.output?.[0] ?? '', out);
  }
  return Float32Array.from(get(g.output?.[0]?.name ?? 'output').data);
}

/** Same-padded 2-D convolution, stride 1, rounding each partial sum with `round`. */
function conv(
  x: Tensor,
  dims: number[],
  w: Float64Array,
  bias: Float64Array | null,
  pt: number,
  pl: number,
  round: (v: number) => number,
): Tensor {
  const [o, c, kh, kw] = dims;
  if (c !== x.c) throw new Error(`reference: conv expects ${c} channels, got ${x.c}`);
  const ph = x.h + 2 * pt;
  const pw = x.w + 2 * pl;
  const padded = new Float64Array(c * ph * pw);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < x.h; y++)
      padded.set(
        x.data.subarray((k * x.h + y) * x.w, (k * x.h + y + 1) * x.w),
        (k * ph + y + pt) * pw + pl,
      );
  const h = ph - kh + 1;
  const wd = pw - kw + 1;
  const out = new Float64Array(o * h * wd);
  const taps = c * kh * kw;
  for (let oc = 0; oc < o; oc++) {
    const wBase = oc * taps;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++) {
        let acc = 0;
        for (let k = 0; k < c; k++) {
          const base = k * ph * pw;
          const wk = wBase + k * kh * kw;
          for (let dy = 0; dy < kh; dy++) {
            const row = base + (y + dy) * pw + xx;
            const wr = wk + dy * kw;
            for (let dx = 0; dx < kw; dx++) acc = round(acc + w[wr + dx] * padded[row + dx]);
          }
        }
        out[(oc * h + y) * wd + xx] = bias ? round(acc + bias[oc]) : acc;
      }
  }
  return { c: o, h, w: wd, data: out };
}

/**
 * The float32 model `bytes` with fp16 storage made explicit: every float weight rounded to half
 * (kept float32), and every node's output and the graph input passed through Cast to float16 and
 * back. Run on onnxruntime's CPU EP, whose kernels then compute in fp32 on values stored as half:
 * what an fp16 graph computes on a backend with f16 storage and f32 arithmetic.
 */
export function halfStorageModel(bytes: Uint8Array): Uint8Array {
  const model = clone(decode(bytes));
  const g = graphOf(model);
  for (const t of g.initializer) {
    const f = floatInitializer(model, t.name ?? '');
    if (!f) continue;
    const rounded = new Float32Array(f.data.length);
    for (let i = 0; i < rounded.length; i++) rounded[i] = roundToHalf(f.data[i]);
    setFloatInitializer(model, t.name ?? '', f.dims, rounded);
  }
  const cast = (from: string, to: string, type: number, name: string): NodeProto => ({
    opType: 'Cast',
    input: [from],
    output: [to],
    name,
    attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type }],
  });
  const nodes: NodeProto[] = [];
  const stored = (value: string): NodeProto[] => {
    const half = `${value}__half`;
    const back = `${value}__stored`;
    return [
      cast(value, half, onnx.TensorProto.DataType.FLOAT16, `${half}_cast`),
      cast(half, back, onnx.TensorProto.DataType.FLOAT, `${back}_cast`),
    ];
  };
  const renamed = new Map<string, string>();
  const inputName = g.input?.[0]?.name ?? 'input';
  nodes.push(...stored(inputName));
  renamed.set(inputName, `${inputName}__stored`);
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  for (const node of g.node) {
    const op = node.opType ?? '';
    node.input = (node.input ?? []).map((v, i) =>
      op === 'Resize' && i > 0 ? v : (renamed.get(v) ?? v),
    );
    nodes.push(node);
    for (const out of node.output ?? []) {
      if (outputs.has(out)) continue;
      nodes.push(...stored(out));
      renamed.set(out, `${out}__stored`);
    }
  }
  g.node = nodes;
  return encode(model);
}
