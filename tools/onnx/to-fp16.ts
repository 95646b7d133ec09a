/**
 * fp32 -> fp16 conversion of a decoded ONNX model that keeps its I/O types: every float32 weight
 * and activation becomes float16, the graph's float32 inputs and outputs stay float32 behind a
 * Cast at each end (what onnxconverter-common's `keep_io_types=True` does). The graph keeps its
 * nodes otherwise, so the fp16 model is the fp32 one with every value rounded to half precision.
 *
 * Only the operators whose float inputs and outputs all share one type are converted; any other
 * operator fails the conversion by name, so a new model never gets a silently wrong fp16 form.
 * Float inputs that ONNX fixes to float32 whatever T is (Resize roi and scales) stay float32.
 */
import { float32ToHalfArray } from '../../engine/latent/float16.ts';
import {
  clone,
  decode,
  encode,
  freshName,
  graphOf,
  onnx,
  type NodeProto,
  type TensorProto,
} from './onnx-graph.ts';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
/** The largest finite half. */
const HALF_MAX = 65504;
/** The smallest positive (subnormal) half; smaller magnitudes round to zero. */
const HALF_MIN = 2 ** -24;

/** Operators whose float tensors are all of one type T (the ones the built-in models use). */
const SAME_TYPE_OPS = new Set([
  'Add',
  'Clip',
  'Concat',
  'Conv',
  'DepthToSpace',
  'Identity',
  'LeakyRelu',
  'Mul',
  'PRelu',
  'Relu',
  'Resize',
  'Sigmoid',
  'Sub',
]);

/** Inputs (by position) that stay float32 whatever the operator's T: Resize roi and scales. */
const FLOAT32_INPUTS: Record<string, ReadonlySet<number>> = { Resize: new Set([1, 2]) };

export interface Fp16Report {
  /** float32 initializers converted to float16. */
  initializers: number;
  /** Weight values converted, and how many of the non-zero ones became zero (under 2^-24). */
  values: number;
  flushedToZero: number;
  /** The largest weight magnitude (fp16 overflows above 65504). */
  maxAbs: number;
}

export interface Fp16Converted {
  bytes: Uint8Array;
  report: Fp16Report;
}

function floatData(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData.length);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** The fp16 form of the ONNX model `bytes` (float32 in, float32 out). */
export function toFp16(bytes: Uint8Array): Fp16Converted {
  const model = clone(decode(bytes));
  const g = graphOf(model);
  const report: Fp16Report = { initializers: 0, values: 0, flushedToZero: 0, maxAbs: 0 };

  // Which values feed a float32-only input, and which feed a T input.
  const float32Uses = new Set<string>();
  const typedUses = new Set<string>();
  for (const node of g.node) {
    const op = node.opType ?? '';
    if (!SAME_TYPE_OPS.has(op) || (node.domain ?? '') !== '') {
      throw new Error(
        `to-fp16: operator ${node.domain ? `${node.domain}.` : ''}${op} (${node.name ?? 'unnamed'}) is not supported`,
      );
    }
    (node.input ?? []).forEach((name, i) => {
      if (!name) return;
      (FLOAT32_INPUTS[op]?.has(i) ? float32Uses : typedUses).add(name);
    });
  }

  for (const t of g.initializer) {
    if (t.dataType !== FLOAT) continue;
    const name = t.name ?? '';
    if (float32Uses.has(name)) {
      if (typedUses.has(name)) throw new Error(`to-fp16: ${name} feeds float32 and T inputs`);
      continue;
    }
    const data = floatData(t);
    for (const v of data) {
      const a = Math.abs(v);
      if (!Number.isFinite(v) || a > HALF_MAX) {
        throw new Error(`to-fp16: initializer ${name} holds ${v}, out of fp16 range`);
      }
      if (a > report.maxAbs) report.maxAbs = a;
      if (a !== 0 && a < HALF_MIN / 2) report.flushedToZero++;
    }
    const half = float32ToHalfArray(data);
    t.dataType = FLOAT16;
    t.floatData = [];
    t.rawData = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    report.initializers++;
    report.values += data.length;
  }

  // float32 graph inputs: one Cast to float16 in front of their T uses.
  const head: typeof g.node = [];
  for (const input of g.input ?? []) {
    const type = input.type?.tensorType;
    if (!type || type.elemType !== FLOAT) continue;
    const name = input.name ?? '';
    if (!typedUses.has(name)) continue;
    const half = freshName(model, `${name}_fp16`);
    head.push({
      opType: 'Cast',
      input: [name],
      output: [half],
      name: `${half}_cast`,
      attribute: [castTo(FLOAT16)],
    });
    for (const node of g.node) {
      const op = node.opType ?? '';
      node.input = (node.input ?? []).map((v, i) =>
        v === name && !FLOAT32_INPUTS[op]?.has(i) ? half : v,
      );
    }
  }

  // float32 graph outputs: their producer writes a float16 value, one Cast makes the output.
  const tail: typeof g.node = [];
  for (const output of g.output ?? []) {
    const type = output.type?.tensorType;
    if (!type || type.elemType !== FLOAT) continue;
    const name = output.name ?? '';
    const half = freshName(model, `${name}_fp16`);
    for (const node of g.node) {
      node.output = (node.output ?? []).map((v) => (v === name ? half : v));
      node.input = (node.input ?? []).map((v) => (v === name ? half : v));
    }
    tail.push({
      opType: 'Cast',
      input: [half],
      output: [name],
      name: `${name}_cast`,
      attribute: [castTo(FLOAT)],
    });
  }
  g.node = [...head, ...g.node, ...tail];

  // Intermediate value types, where recorded, are float16 now.
  for (const info of g.valueInfo ?? []) {
    const type = info.type?.tensorType;
    if (type?.elemType === FLOAT) type.elemType = FLOAT16;
  }
  return { bytes: encode(model), report };
}

function castTo(to: number): NonNullable<NodeProto['attribute']>[number] {
  return { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to };
}
