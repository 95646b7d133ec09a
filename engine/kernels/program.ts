/**
 * Compiles an ESRGAN-shaped ONNX graph (the UpscalerJS ESRGANs, Real-ESRGAN's RRDBNet and
 * SRVGGNetCompact) into a program for the hand-written kernels: a list of steps over symbolic
 * buffers, independent of the image size. Supported: Conv (odd square kernels, stride 1, 'same'
 * pads, one group), with Add (residual) and Relu, LeakyRelu or PRelu fused into it where possible,
 * Concat (never materialised: convolutions read channel slices), Mul by a scalar, Add,
 * DepthToSpace (DCR; CRD right after a Conv, whose output channels are then permuted to DCR order),
 * a nearest Resize of the graph input by the output scale added at the end (the compact net's
 * skip), a final bicubic downscale, and a final Clip. Other Resizes must have been folded away first
 * (tools/esrgan/exact-rewrites.ts foldUpsampleConv). Anything else throws.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** A buffer: `channels` channels at `scale` times the input resolution. */
export interface BufSpec {
  id: number;
  channels: number;
  scale: number;
}

/** A channel range of a buffer. */
export interface SliceRef {
  buf: number;
  offset: number;
  channels: number;
}

export interface ConvStep {
  kind: 'conv';
  name: string;
  algo: 'direct' | 'winograd';
  k: number;
  inputs: SliceRef[];
  out: SliceRef;
  /** Output channels rounded up to the kernels' block of 8. */
  coPadded: number;
  /** Per input slice, packed weights (direct) or one packed transformed tensor (winograd). */
  weights: Float32Array[];
  bias: Float32Array;
  /** After bias and residual: none, ReLU, or PReLU with `slope` (coPadded values; LeakyRelu too). */
  activation: 'none' | 'relu' | 'prelu';
  slope: Float32Array | null;
  residual: SliceRef | null;
}

export interface LincombStep {
  kind: 'lincomb';
  out: number;
  x: number;
  a: number;
  y: number | null;
  b: number;
}

export interface DepthToSpaceStep {
  kind: 'd2s';
  src: number;
  dst: number;
  block: number;
}

export interface OutputStep {
  kind: 'output';
  src: number;
  /** Channels after the final depth-to-space (s = 1 for none). */
  channels: number;
  block: number;
  clip: [number, number];
  /** Add the graph input, nearest-upsampled by the program's scale, before the clip. */
  addUpsampledInput: boolean;
}

export type Step = ConvStep | LincombStep | DepthToSpaceStep | OutputStep;

export interface Program {
  inputName: string;
  outputName: string;
  buffers: BufSpec[];
  steps: Step[];
  /** Output resolution / input resolution (after any final downscale). */
  scale: number;
  outChannels: number;
  /**
   * A final bicubic downscale (ONNX Resize 'cubic', half_pixel, a = -0.75, edge taps clamped: how
   * the ×2 and ×3 anime nets end), by `factor` < 1, before the clip; the output step then leaves
   * the clip to it (cubic-resize.ts).
   */
  finalResize: { factor: number; clip: [number, number] } | null;
}

const COB = 8;

interface Tensor {
  dims: number[];
  data: Float32Array;
}

function initializers(graph: onnxProto.onnx.IGraphProto): Map<string, Tensor> {
  const map = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const dims = (t.dims ?? []).map(Number);
    let data: Float32Array;
    if (t.rawData && t.rawData.length) {
      const copy = new Uint8Array(t.rawData.length);
      copy.set(t.rawData);
      data = new Float32Array(copy.buffer);
    } else data = Float32Array.from(t.floatData ?? []);
    map.set(t.name ?? '', { dims, data });
  }
  return map;
}

function attrInts(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a?.ints?.length ? a.ints.map(Number) : fallback;
}

function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a && a.i !== undefined && a.i !== null ? Number(a.i) : fallback;
}

function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a?.s?.length ? new TextDecoder().decode(a.s) : fallback;
}

/** Direct-conv weights of one input slice: OIHW -> [coPadded/8][k][k][sliceChannels][8]. */
export function packDirect(
  w: Tensor,
  ciStart: number,
  ciCount: number,
  coPadded: number,
): Float32Array {
  const [co, ci, k] = w.dims;
  const out = new Float32Array(coPadded * k * k * ciCount);
  let i = 0;
  for (let cb = 0; cb < coPadded; cb += COB)
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++)
        for (let c = 0; c < ciCount; c++)
          for (let o = 0; o < COB; o++, i++) {
            const oc = cb + o;
            if (oc < co) out[i] = w.data[((oc * ci + ciStart + c) * k + ky) * k + kx];
          }
  return out;
}

/** Input tile side of the Winograd convolutions: F(6x6, 3x3) and F(4x4, 5x5) on 8x8 tiles. */
export const WINOGRAD_TILE = 8;

/** Finite interpolation points of the 8x8 tiles (the last point is infinity). */
const POINTS = [0, 1, -1, 2, -2, 1 / 2, -1 / 2];

/**
 * G (8 x r) for kernels of size r: row p = f_p [1, p, ..., p^(r-1)] with f_p = 1 / prod(p - q);
 * infinity row = [0..0, 1]. Must match B^T and A^T in kernels.c (bt8, at8).
 */
export function winogradG(r: number): number[][] {
  const rows = POINTS.map((p) => {
    const f = 1 / POINTS.filter((q) => q !== p).reduce((acc, q) => acc * (p - q), 1);
    return Array.from({ length: r }, (_, k) => f * p ** k);
  });
  rows.push(Array.from({ length: r }, (_, k) => (k === r - 1 ? 1 : 0)));
  return rows;
}

/** Winograd weights U = G g G^T (float64), packed [64][coPadded/8][ci][8], for 3x3 or 5x5 kernels. */
export function packWinograd(w: Tensor, coPadded: number): Float32Array {
  const [co, ci, r] = w.dims;
  const G = winogradG(r);
  const n = WINOGRAD_TILE;
  const out = new Float32Array(n * n * coPadded * ci);
  const blocks = coPadded / COB;
  const t = new Float64Array(n * r);
  for (let o = 0; o < co; o++) {
    for (let c = 0; c < ci; c++) {
      const base = (o * ci + c) * r * r;
      // t = G g (n x r), then U = t G^T (n x n).
      for (let i = 0; i < n; i++)
        for (let b = 0; b < r; b++) {
          let v = 0;
          for (let a = 0; a < r; a++) v += G[i][a] * w.data[base + a * r + b];
          t[i * r + b] = v;
        }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let u = 0;
          for (let b = 0; b < r; b++) u += t[i * r + b] * G[j][b];
          out[(((i * n + j) * blocks + (o >> 3)) * ci + c) * COB + (o & 7)] = u;
        }
      }
    }
  }
  return out;
}

export interface CompileOptions {
  /** Use Winograd F(6x6, 3x3) for eligible 3x3 convolutions (default true). */
  winograd?: boolean;
  /** Use Winograd F(4x4, 5x5) for eligible 5x5 convolutions (default true; needs `winograd`). */
  winograd5?: boolean;
}

export function compileProgram(modelBytes: Uint8Array, options: CompileOptions = {}): Program {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const inits = initializers(graph);
  const nodes = graph.node ?? [];
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes)
    for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const inputName = graph.input?.find((i) => !inits.has(i.name ?? ''))?.name ?? '';
  const outputName = graph.output?.[0]?.name ?? '';

  const buffers: BufSpec[] = [];
  const newBuf = (channels: number, scale: number) => {
    const b = { id: buffers.length, channels, scale };
    buffers.push(b);
    return b;
  };
  const values = new Map<string, SliceRef[]>();
  const scaleOf = new Map<number, number>();
  const steps: Step[] = [];
  const done = new Set<NodeProto>();
  const inputInfo = graph.input?.find((i) => i.name === inputName);
  const inputChannels = Number(inputInfo?.type?.tensorType?.shape?.dim?.[1]?.dimValue ?? 3);
  const input = newBuf(inputChannels, 1);
  scaleOf.set(input.id, 1);
  values.set(inputName, [{ buf: input.id, offset: 0, channels: inputChannels }]);

  const value = (name: string): SliceRef[] => {
    const v = values.get(name);
    if (!v) throw new Error(`kernels: value ${name} is not computed (unsupported producer?)`);
    return v;
  };
  /** A value that is one whole buffer (for element-wise steps). */
  const wholeBuffer = (name: string): number => {
    const v = value(name);
    if (v.length !== 1 || v[0].offset !== 0 || v[0].channels !== buffers[v[0].buf].channels) {
      throw new Error(`kernels: ${name} is not a whole buffer`);
    }
    return v[0].buf;
  };
  const only = (name: string): NodeProto | null => {
    const users = consumers.get(name) ?? [];
    return users.length === 1 && name !== outputName ? users[0] : null;
  };
  const scalar = (name: string): number | null => {
    const t = inits.get(name);
    return t && t.data.length === 1 ? t.data[0] : null;
  };

  let clip: [number, number] = [-Infinity, Infinity];
  /** DepthToSpace nodes left to the output step, by output name. */
  const foldedD2S = new Map<string, { src: string; block: number }>();
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);

  /** Nearest Resizes of the graph input by an integer factor (the compact net's skip), by output. */
  const upsampledInput = new Map<string, number>();
  for (const n of nodes) {
    if (n.opType !== 'Resize' || n.input?.[0] !== inputName) continue;
    const scales = inits.get(n.input?.[2] ?? '')?.data;
    const f = scales?.[2];
    const exact =
      attrString(n, 'mode', 'nearest') === 'nearest' &&
      attrString(n, 'coordinate_transformation_mode', 'half_pixel') === 'asymmetric' &&
      attrString(n, 'nearest_mode', 'round_prefer_floor') === 'floor' &&
      scales?.length === 4 &&
      scales[0] === 1 &&
      scales[1] === 1 &&
      f !== undefined &&
      scales[3] === f &&
      Number.isInteger(f);
    if (exact) upsampledInput.set(n.output?.[0] ?? '', f);
  }
  /** The final bicubic downscale, if any. */
  let resize: { node: NodeProto; factor: number } | null = null;
  /** The Add of the upsampled input, its other input, and the factor. */
  let skip: { add: NodeProto; main: string; factor: number } | null = null;
  const isSkipAdd = (n: NodeProto | null | undefined): boolean => {
    const ins = n?.input ?? [];
    return n?.opType === 'Add' && ins.length === 2 && ins.some((i) => upsampledInput.has(i));
  };

  /** DepthToSpace nodes whose following activation was fused into the conv before them. */
  const d2sActivation = new Map<NodeProto, NodeProto>();

  // CRD DepthToSpace right after a Conv: permute the Conv's output channels so DCR gives the same.
  const crdAsDcr = new Set<NodeProto>();
  for (const n of nodes) {
    if (n.opType !== 'DepthToSpace' || attrString(n, 'mode', 'DCR') !== 'CRD') continue;
    const conv = producer.get(n.input?.[0] ?? '');
    const w = inits.get(conv?.input?.[1] ?? '');
    if (conv?.opType !== 'Conv' || (consumers.get(n.input?.[0] ?? '') ?? []).length !== 1 || !w)
      continue;
    const b = attrInt(n, 'blocksize', 0);
    const [co, ...rest] = w.dims;
    const per = rest.reduce((a, d) => a * d, 1);
    const c = co / (b * b);
    const bias = inits.get(conv.input?.[2] ?? '');
    const pw = new Float32Array(w.data.length);
    const pb = bias ? new Float32Array(bias.data.length) : null;
    for (let ch = 0; ch < c; ch++)
      for (let k = 0; k < b * b; k++) {
        const from = ch * b * b + k;
        const to = k * c + ch;
        pw.set(w.data.subarray(from * per, (from + 1) * per), to * per);
        if (pb && bias) pb[to] = bias.data[from];
      }
    inits.set(conv.input?.[1] ?? '', { dims: w.dims, data: pw });
    if (pb && bias) inits.set(conv.input?.[2] ?? '', { dims: bias.dims, data: pb });
    crdAsDcr.add(n);
  }

  /** The activation fused after a conv's output `name`, if its only consumer is one. */
  const activationAfter = (
    name: string,
    co: number,
    coPadded: number,
  ): { node: NodeProto; activation: 'relu' | 'prelu'; slope: Float32Array | null } | null => {
    const next = only(name);
    if (next?.opType === 'Relu') return { node: next, activation: 'relu', slope: null };
    let values: Float32Array | null = null;
    if (next?.opType === 'LeakyRelu') {
      const a = (next.attribute ?? []).find((x) => x.name === 'alpha');
      values = Float32Array.of(a?.f ?? 0.01);
    } else if (next?.opType === 'PRelu') {
      values = inits.get(next.input?.[1] ?? '')?.data ?? null;
      if (!values || (values.length !== 1 && values.length !== co))
        throw new Error(`kernels: ${next.name} slopes are not a constant per channel`);
    }
    if (!next || !values) return null;
    const slope = new Float32Array(coPadded);
    for (let o = 0; o < co; o++) slope[o] = values.length === 1 ? values[0] : values[o];
    return { node: next, activation: 'prelu', slope };
  };

  for (const node of nodes) {
    if (done.has(node)) continue;
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const out = node.output?.[0] ?? '';
    if (op === 'Conv') {
      const w = inits.get(ins[1]);
      if (!w || w.dims.length !== 4)
        throw new Error(`kernels: ${node.name} weights are not a constant 4-D tensor`);
      const [co, ci, kh, kw] = w.dims;
      const pads = attrInts(node, 'pads', [0, 0, 0, 0]);
      if (kh !== kw || kh % 2 !== 1 || pads.some((p) => p !== (kh - 1) / 2))
        throw new Error(`kernels: ${node.name} is not a 'same' odd square conv`);
      if (
        attrInts(node, 'strides', [1, 1]).some((s) => s !== 1) ||
        attrInts(node, 'dilations', [1, 1]).some((d) => d !== 1)
      ) {
        throw new Error(`kernels: ${node.name} has strides or dilations`);
      }
      if (attrInt(node, 'group', 1) !== 1) throw new Error(`kernels: ${node.name} is grouped`);
      const slices = value(ins[0]);
      if (slices.reduce((a, s) => a + s.channels, 0) !== ci)
        throw new Error(`kernels: ${node.name} input channels mismatch`);
      const scale = scaleOf.get(slices[0].buf) ?? 1;
      const coPadded = Math.ceil(co / COB) * COB;
      const bias = new Float32Array(coPadded);
      if (ins[2]) bias.set(inits.get(ins[2])?.data ?? new Float32Array(co));
      let result = out;
      let residual: SliceRef | null = null;
      const next = only(result);
      if (next?.opType === 'Add' && !isSkipAdd(next)) {
        const other = (next.input ?? []).find((i) => i !== result) ?? '';
        const o = values.get(other);
        if (o && o.length === 1 && o[0].channels === co && (next.input ?? []).length === 2) {
          residual = o[0];
          done.add(next);
          result = next.output?.[0] ?? '';
        }
      }
      let act = activationAfter(result, co, coPadded);
      if (act) {
        done.add(act.node);
        result = act.node.output?.[0] ?? '';
      } else {
        // Conv -> DepthToSpace -> activation: the activation is per pixel and channel, so it runs
        // in the conv's epilogue, each slope on the conv channels that become its channel (DCR).
        const d2s = only(result);
        const block = d2s?.opType === 'DepthToSpace' ? attrInt(d2s, 'blocksize', 0) : 0;
        const after =
          d2s && block ? activationAfter(d2s.output?.[0] ?? '', co / block ** 2, co) : null;
        if (d2s && after) {
          const c = co / block ** 2;
          let slope: Float32Array | null = null;
          if (after.slope) {
            slope = new Float32Array(coPadded);
            for (let o = 0; o < co; o++) slope[o] = after.slope[o % c];
          }
          act = { ...after, slope };
          done.add(after.node);
          d2sActivation.set(d2s, after.node);
        }
      }
      const winograd =
        options.winograd !== false &&
        (kh === 3 || (kh === 5 && options.winograd5 !== false)) &&
        slices.every((s) => s.channels % 4 === 0);
      const dst = newBuf(co, scale);
      scaleOf.set(dst.id, scale);
      let weights: Float32Array[];
      if (winograd) weights = [packWinograd(w, coPadded)];
      else {
        let start = 0;
        weights = slices.map((s) => {
          const packed = packDirect(w, start, s.channels, coPadded);
          start += s.channels;
          return packed;
        });
      }
      steps.push({
        kind: 'conv',
        name: node.name ?? out,
        algo: winograd ? 'winograd' : 'direct',
        k: kh,
        inputs: slices,
        out: { buf: dst.id, offset: 0, channels: co },
        coPadded,
        weights,
        bias,
        activation: act?.activation ?? 'none',
        slope: act?.slope ?? null,
        residual,
      });
      values.set(result, [{ buf: dst.id, offset: 0, channels: co }]);
    } else if (op === 'Concat') {
      if (attrInt(node, 'axis', 1) !== 1)
        throw new Error(`kernels: ${node.name} concatenates along another axis than channels`);
      values.set(
        out,
        ins.flatMap((i) => value(i)),
      );
    } else if (op === 'Identity') {
      values.set(out, value(ins[0]));
    } else if (op === 'Resize' && attrString(node, 'mode', 'nearest') === 'cubic') {
      const scales = inits.get(ins[2] ?? '')?.data;
      const f = scales?.[2] ?? 0;
      const next = consumers.get(out) ?? [];
      const ok =
        attrString(node, 'coordinate_transformation_mode', 'half_pixel') === 'half_pixel' &&
        (node.attribute ?? []).find((a) => a.name === 'cubic_coeff_a')?.f === -0.75 &&
        attrInt(node, 'exclude_outside', 0) === 0 &&
        scales?.length === 4 &&
        scales[0] === 1 &&
        scales[1] === 1 &&
        scales[3] === f &&
        f > 0 &&
        f < 1 &&
        (out === outputName ||
          (next.length === 1 && (next[0].opType === 'Clip' || next[0].opType === 'Identity')));
      if (!ok || resize) throw new Error(`kernels: ${node.name} is not a final bicubic downscale`);
      resize = { node, factor: f };
      values.set(out, value(ins[0]));
    } else if (op === 'Resize' && upsampledInput.has(out)) {
      // Not a value of its own: the output step adds it (checked at the skip Add).
      const users = consumers.get(out) ?? [];
      if (users.length !== 1 || !isSkipAdd(users[0]))
        throw new Error(`kernels: ${node.name} is used other than as the output's skip`);
    } else if (isSkipAdd(node)) {
      const main = ins.find((i) => !upsampledInput.has(i)) ?? '';
      const factor = upsampledInput.get(ins.find((i) => upsampledInput.has(i)) ?? '') ?? 1;
      const next = consumers.get(out) ?? [];
      const terminal =
        out === outputName ||
        (next.length === 1 &&
          (next[0].opType === 'Clip' ||
            next[0].opType === 'Identity' ||
            (next[0].opType === 'Resize' && attrString(next[0], 'mode', '') === 'cubic')));
      if (!terminal || skip) throw new Error(`kernels: ${node.name} adds the skip before the end`);
      skip = { add: node, main, factor };
      values.set(out, value(main));
    } else if (op === 'Mul' || op === 'Add') {
      // Add(x, Mul(y, c)) -> one lincomb; Mul(x, c) -> z = c x; Add(x, y) -> z = x + y.
      let step: LincombStep;
      const c = op === 'Mul' ? scalar(ins[1]) : null;
      if (op === 'Mul') {
        if (c === null) throw new Error(`kernels: ${node.name} multiplies by a non-scalar`);
        const next = only(out);
        if (next?.opType === 'Add' && values.has((next.input ?? []).find((i) => i !== out) ?? '')) {
          const other = (next.input ?? []).find((i) => i !== out) ?? '';
          const x = wholeBuffer(other);
          const y = wholeBuffer(ins[0]);
          const z = newBuf(buffers[x].channels, scaleOf.get(x) ?? 1);
          scaleOf.set(z.id, scaleOf.get(x) ?? 1);
          steps.push({ kind: 'lincomb', out: z.id, x, a: 1, y, b: c });
          done.add(next);
          values.set(next.output?.[0] ?? '', [{ buf: z.id, offset: 0, channels: z.channels }]);
          continue;
        }
        const x = wholeBuffer(ins[0]);
        const z = newBuf(buffers[x].channels, scaleOf.get(x) ?? 1);
        step = { kind: 'lincomb', out: z.id, x, a: c, y: null, b: 0 };
      } else {
        const x = wholeBuffer(ins[0]);
        const y = wholeBuffer(ins[1]);
        const z = newBuf(buffers[x].channels, scaleOf.get(x) ?? 1);
        step = { kind: 'lincomb', out: z.id, x, a: 1, y, b: 1 };
      }
      scaleOf.set(step.out, scaleOf.get(step.x) ?? 1);
      steps.push(step);
      values.set(out, [{ buf: step.out, offset: 0, channels: buffers[step.out].channels }]);
    } else if (op === 'DepthToSpace') {
      const block = attrInt(node, 'blocksize', 0);
      if (attrString(node, 'mode', 'DCR') !== 'DCR' && !crdAsDcr.has(node))
        throw new Error(`kernels: ${node.name} is CRD and does not follow a Conv`);
      const fusedAct = d2sActivation.get(node);
      const name = fusedAct?.output?.[0] ?? out;
      const next = only(name);
      const src = wholeBuffer(ins[0]);
      const channels = buffers[src].channels / (block * block);
      if (
        next?.opType === 'Clip' ||
        name === outputName ||
        next?.opType === 'Identity' ||
        isSkipAdd(next)
      ) {
        // Folded into the output step.
        foldedD2S.set(name, { src: ins[0], block });
        values.set(name, value(ins[0]));
        continue;
      }
      const scale = (scaleOf.get(src) ?? 1) * block;
      const dst = newBuf(channels, scale);
      scaleOf.set(dst.id, scale);
      steps.push({ kind: 'd2s', src, dst: dst.id, block });
      values.set(name, [{ buf: dst.id, offset: 0, channels }]);
    } else if (op === 'Clip') {
      const lo = ins[1] ? scalar(ins[1]) : null;
      const hi = ins[2] ? scalar(ins[2]) : null;
      const next = consumers.get(out) ?? [];
      const terminal =
        out === outputName ||
        (next.length === 1 && next[0].opType === 'Identity' && next[0].output?.[0] === outputName);
      if (!terminal) throw new Error(`kernels: ${node.name} clips before the end of the graph`);
      clip = [lo ?? -Infinity, hi ?? Infinity];
      values.set(out, value(ins[0]));
    } else {
      throw new Error(`kernels: unsupported op ${op} (${node.name})`);
    }
  }
  // Walk back from the output through Identity / Clip to the last real value.
  let srcName = outputName;
  const found = skip as { add: NodeProto; main: string; factor: number } | null;
  const finalResize = resize as { node: NodeProto; factor: number } | null;
  for (
    let p = producer.get(srcName);
    p &&
    (p.opType === 'Identity' || p.opType === 'Clip' || p === found?.add || p === finalResize?.node);
    p = producer.get(srcName)
  ) {
    srcName = p === found?.add ? found.main : (p.input?.[0] ?? '');
  }
  const folded = foldedD2S.get(srcName);
  const finalBlock = folded?.block ?? 1;
  const src = wholeBuffer(folded?.src ?? srcName);
  const channels = buffers[src].channels / (finalBlock * finalBlock);
  const scale = (scaleOf.get(src) ?? 1) * finalBlock;
  if (found && (found.factor !== scale || channels !== inputChannels))
    throw new Error(
      `kernels: the skip upsamples the input by ${found.factor}, the output is ${scale}x with ${channels} channels`,
    );
  steps.push({
    kind: 'output',
    src,
    channels,
    block: finalBlock,
    clip: finalResize ? [-Infinity, Infinity] : clip,
    addUpsampledInput: found !== null,
  });
  const outScale = finalResize ? scale * finalResize.factor : scale;
  if (!Number.isInteger(outScale))
    throw new Error(`kernels: the output scale ${outScale} is not a whole number`);
  return {
    inputName,
    outputName,
    buffers,
    steps,
    scale: outScale,
    outChannels: channels,
    finalResize: finalResize ? { factor: finalResize.factor, clip } : null,
  };
}
