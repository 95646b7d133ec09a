/**
 * A small ONNX graph builder on top of onnx-proto (protobufjs). Converters (ESRGAN, TAESD, ...)
 * describe their graphs with it and get a serialized ModelProto back.
 */
import onnxProto from 'onnx-proto';
// Type-only view of the same namespace: `onnx` below is a value, so types are named through `Onnx`.
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;

const DTYPE_CODE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** Marks an attribute value as FLOAT / FLOATS (plain numbers become INT / INTS). */
export class FloatAttr {
  constructor(readonly value: number | number[]) {}
}
export const float = (value: number | number[]): FloatAttr => new FloatAttr(value);

export type AttrValue = number | number[] | string | FloatAttr;

export interface NodeOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names. */
  outputNames?: string[];
  /** Node name (also used as a prefix for generated output names). */
  name?: string;
  /** Operator domain; '' is the default ONNX domain, 'com.microsoft' for contrib ops. */
  domain?: string;
}

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export class GraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  /** Data sources of initializers added with lazyInitializer(), by initializer name. */
  private readonly lazyData = new Map<string, LazyTensor>();
  private readonly usedNames = new Set<string>();
  private readonly domains = new Map<string, number>();
  private counter = 0;

  constructor(
    readonly graphName: string,
    readonly opset = 17,
  ) {
    this.domains.set('', opset);
  }

  /** A fresh, unique value name derived from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    while (this.usedNames.has(name)) name = `${hint}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Declares `value` as a graph output. If its name differs, an Identity renames it. */
  output(value: string, name: string, dtype: DType, shape: Dim[]): string {
    let out = value;
    if (value !== name) {
      this.claim(name);
      this.nodes.push({
        opType: 'Identity',
        input: [value],
        output: [name],
        name: `${name}_identity`,
      });
      out = name;
    }
    this.outputs.push(valueInfo(out, dtype, shape));
    return out;
  }

  /** Adds a constant weight tensor. `data` for float16 is the raw IEEE half bits. */
  initializer(hint: string, dtype: DType, dims: number[], data: TensorData): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const elements = data instanceof Uint8Array && dtype !== 'bool' ? data.length : data.length;
    if (elements !== count) {
      throw new Error(`initializer ${hint}: ${elements} values for dims [${dims.join(', ')}]`);
    }
    const name = this.uniqueName(hint);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({
      name,
      dims,
      dataType: DTYPE_CODE[dtype],
      rawData: bytes,
    });
    return name;
  }

  /**
   * Adds a constant weight tensor whose data is produced only when the model is serialized, so a
   * streaming writer (tools/onnx/model-writer.ts) can load, convert and write one tensor at a time.
   */
  lazyInitializer(hint: string, dtype: DType, dims: number[], load: () => TensorData): string {
    const name = this.uniqueName(hint);
    const count = dims.reduce((a, b) => a * b, 1);
    this.initializers.push({ name, dims, dataType: DTYPE_CODE[dtype] });
    this.lazyData.set(name, { byteLength: count * DTYPE_BYTES[dtype], load });
    return name;
  }

  constF32(hint: string, values: Float32Array | number[], dims?: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.initializer(hint, 'float32', dims ?? [data.length], data);
  }

  constI64(hint: string, values: number[], dims?: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.initializer(hint, 'int64', dims ?? [data.length], data);
  }

  /** Adds a node and returns its output names. */
  nodeN(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: NodeOptions = {},
  ): string[] {
    const nodeName = this.uniqueName(opts.name ?? opType.toLowerCase());
    const count = opts.outputNames?.length ?? opts.outputs ?? 1;
    const outputs =
      opts.outputNames?.map((n) => {
        // '' leaves an optional output out (ONNX convention).
        if (n !== '') this.claim(n);
        return n;
      }) ??
      Array.from({ length: count }, (_, i) =>
        this.uniqueName(count === 1 ? nodeName : `${nodeName}_${i}`),
      );
    const domain = opts.domain ?? '';
    if (!this.domains.has(domain)) this.domains.set(domain, 1);
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: nodeName,
      domain,
      attribute: Object.entries(attrs).map(([key, v]) => attribute(key, v)),
    });
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: NodeOptions = {},
  ): string {
    return this.nodeN(opType, inputs, attrs, opts)[0];
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Number of scalar weights held in initializers. */
  get parameterCount(): number {
    return this.initializers.reduce(
      (sum, t) => sum + (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1),
      0,
    );
  }

  toModelProto(producer = 'gendr-web'): Onnx.ModelProto {
    return this.modelProto(
      producer,
      this.initializers.map((t) => this.withData(t)),
    );
  }

  /**
   * The model split for streaming writers: the ModelProto without initializers, and each
   * initializer's metadata (no data) with its byte size and a function that produces its raw bytes.
   */
  streamParts(producer = 'gendr-web'): {
    model: Onnx.ModelProto;
    initializers: { tensor: Onnx.ITensorProto; byteLength: number; data: () => Uint8Array }[];
  } {
    const model = this.modelProto(producer, []);
    const initializers = this.initializers.map((t) => {
      const lazy = this.lazyData.get(t.name ?? '');
      const { rawData, ...meta } = t;
      const eager = rawData ?? new Uint8Array(0);
      return {
        tensor: meta,
        byteLength: lazy ? lazy.byteLength : eager.byteLength,
        data: lazy ? () => lazyBytes(t.name ?? '', lazy) : () => eager,
      };
    });
    return { model, initializers };
  }

  private modelProto(producer: string, initializer: Onnx.ITensorProto[]): Onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      producerVersion: '0.1.0',
      opsetImport: [...this.domains].map(([domain, version]) => ({ domain, version })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer,
      },
    });
  }

  private withData(t: Onnx.ITensorProto): Onnx.ITensorProto {
    const lazy = this.lazyData.get(t.name ?? '');
    return lazy ? { ...t, rawData: lazyBytes(t.name ?? '', lazy) } : t;
  }

  toBytes(producer?: string): Uint8Array {
    return onnx.ModelProto.encode(this.toModelProto(producer)).finish();
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`duplicate value name ${name}`);
    this.usedNames.add(name);
  }
}

interface LazyTensor {
  byteLength: number;
  load: () => TensorData;
}

const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float16: 2,
  int64: 8,
  int32: 4,
  bool: 1,
};

function lazyBytes(name: string, lazy: LazyTensor): Uint8Array {
  const data = lazy.load();
  if (data.byteLength !== lazy.byteLength) {
    throw new Error(
      `initializer ${name}: loaded ${data.byteLength} bytes, expected ${lazy.byteLength}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, dtype: DType, shape: Dim[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DTYPE_CODE[dtype],
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) {
    return Array.isArray(value.value)
      ? { name, type: T.FLOATS, floats: value.value }
      : { name, type: T.FLOAT, f: value.value };
  }
  if (typeof value === 'string')
    return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    value.forEach((v) => assertInt(name, v));
    return { name, type: T.INTS, ints: value };
  }
  assertInt(name, value);
  return { name, type: T.INT, i: value };
}

function assertInt(name: string, v: number): void {
  if (!Number.isInteger(v))
    throw new Error(`attribute ${name}: ${v} is not an integer; wrap floats in float()`);
}

/** Decodes a serialized model (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): Onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
