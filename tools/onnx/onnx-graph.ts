/**
 * Small helpers for rewriting a decoded ONNX model in place: float initializers, node attributes
 * and the producer/consumer relations graph passes need (e.g. tools/esrgan/exact-rewrites.ts).
 * Building a model from scratch is tools/onnx/graph-builder.ts's job.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type Model = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;

export function decode(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

export function encode(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Deep copy (through the wire format), so a pass never mutates its caller's model. */
export function clone(model: Model): Model {
  return decode(encode(model));
}

export function graphOf(
  model: Model,
): onnxProto.onnx.IGraphProto & { node: NodeProto[]; initializer: TensorProto[] } {
  const g = model.graph;
  if (!g) throw new Error('model has no graph');
  g.node ??= [];
  g.initializer ??= [];
  return g as onnxProto.onnx.IGraphProto & { node: NodeProto[]; initializer: TensorProto[] };
}

export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

export function findInitializer(model: Model, name: string): TensorProto | undefined {
  return graphOf(model).initializer.find((t) => t.name === name);
}

/** A float32 initializer's values (copied), or undefined if `name` is not a float initializer. */
export function floatInitializer(model: Model, name: string): FloatTensor | undefined {
  const t = findInitializer(model, name);
  if (!t || t.dataType !== FLOAT) return undefined;
  const dims = (t.dims ?? []).map(Number);
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return { dims, data: new Float32Array(copy.buffer) };
  }
  return { dims, data: Float32Array.from(t.floatData ?? []) };
}

/** Adds (or replaces) a raw initializer. */
export function setInitializer(
  model: Model,
  name: string,
  dataType: number,
  dims: number[],
  bytes: Uint8Array,
): void {
  const g = graphOf(model);
  const tensor: TensorProto = { name, dims, dataType, rawData: bytes };
  const index = g.initializer.findIndex((t) => t.name === name);
  if (index >= 0) g.initializer[index] = tensor;
  else g.initializer.push(tensor);
}

export function setFloatInitializer(
  model: Model,
  name: string,
  dims: number[],
  data: Float32Array,
): void {
  setInitializer(
    model,
    name,
    FLOAT,
    dims,
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
}

/** Removes initializers no node reads any more. */
export function dropUnusedInitializers(model: Model): void {
  const g = graphOf(model);
  const used = new Set(g.node.flatMap((n) => n.input ?? []));
  for (const o of g.output ?? []) used.add(o.name ?? '');
  g.initializer = g.initializer.filter((t) => used.has(t.name ?? ''));
}

/** A name no value or initializer of the model uses yet. */
export function freshName(model: Model, hint: string): string {
  const g = graphOf(model);
  const taken = new Set<string>([
    ...g.node.flatMap((n) => [...(n.input ?? []), ...(n.output ?? []), n.name ?? '']),
    ...g.initializer.map((t) => t.name ?? ''),
  ]);
  let name = hint;
  for (let i = 1; taken.has(name); i++) name = `${hint}_${i}`;
  return name;
}

export function consumers(model: Model, value: string): NodeProto[] {
  return graphOf(model).node.filter((n) => (n.input ?? []).includes(value));
}

export function producer(model: Model, value: string): NodeProto | undefined {
  return graphOf(model).node.find((n) => (n.output ?? []).includes(value));
}

export function isGraphOutput(model: Model, value: string): boolean {
  return (graphOf(model).output ?? []).some((o) => o.name === value);
}

type AttrValue = number | number[] | string | undefined;

/** An attribute as a plain value: INT/FLOAT -> number, INTS/FLOATS -> number[], STRING -> string. */
export function attr(node: NodeProto, name: string): AttrValue {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return Number(a.i);
    case T.FLOAT:
      return Number(a.f);
    case T.INTS:
      return (a.ints ?? []).map(Number);
    case T.FLOATS:
      return (a.floats ?? []).map(Number);
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    default:
      return undefined;
  }
}

export function intsAttr(node: NodeProto, name: string, fallback: number[]): number[] {
  const v = attr(node, name);
  return Array.isArray(v) ? v : fallback;
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const v = attr(node, name);
  return typeof v === 'number' ? v : fallback;
}

export function setIntsAttr(node: NodeProto, name: string, ints: number[]): void {
  node.attribute = (node.attribute ?? []).filter((a) => a.name !== name);
  node.attribute.push({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
}

/** Replaces every use of `from` (node inputs and graph outputs) by `to`. */
export function renameValue(model: Model, from: string, to: string): void {
  const g = graphOf(model);
  for (const n of g.node) n.input = (n.input ?? []).map((i) => (i === from ? to : i));
  for (const o of g.output ?? []) if (o.name === from) o.name = to;
}

export function removeNodes(model: Model, dead: Set<NodeProto>): void {
  const g = graphOf(model);
  g.node = g.node.filter((n) => !dead.has(n));
}

/** Conv attributes the passes support: 2-D, stride 1, dilation 1, one group, symmetric pads. */
export interface PlainConv {
  kernel: [number, number];
  pad: [number, number];
}

export function plainConv(node: NodeProto, weightDims: number[]): PlainConv | null {
  if (node.opType !== 'Conv' || weightDims.length !== 4) return null;
  const strides = intsAttr(node, 'strides', [1, 1]);
  const dilations = intsAttr(node, 'dilations', [1, 1]);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  const autoPad = attr(node, 'auto_pad');
  if (intAttr(node, 'group', 1) !== 1) return null;
  if (strides.some((s) => s !== 1) || dilations.some((d) => d !== 1)) return null;
  if (autoPad !== undefined && autoPad !== 'NOTSET') return null;
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) return null;
  return { kernel: [weightDims[2], weightDims[3]], pad: [pads[0], pads[1]] };
}
