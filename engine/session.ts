/**
 * The runtime-agnostic session interface the engine is written against.
 *
 * onnxruntime-web (in the worker) and onnxruntime-node (in tests and the CLI) both satisfy it
 * through tiny adapters (workers/runtime/ort-web.ts, tools/runtime/ort-node.ts), so tiling,
 * pipelines and colour code never import a runtime themselves.
 */

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** The subset of ort.Tensor the engine uses (ort-web and ort-node tensors both fit). */
export interface EngineTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

export interface TensorMetadata {
  readonly name: string;
  readonly type: string;
  /** Dimensions, with symbolic ones as strings. Absent where the runtime does not expose them. */
  readonly shape?: readonly (number | string)[];
}

/** One loaded model. */
export interface EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly TensorMetadata[];
  readonly outputMetadata?: readonly TensorMetadata[];
  run(feeds: Record<string, EngineTensor>): Promise<Record<string, EngineTensor>>;
  release?(): Promise<void>;
}

/** What the engine needs from a runtime besides sessions: a way to make input tensors. */
export interface TensorFactory {
  tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor;
}

/**
 * One ONNX external-data file of a model (weights kept beside the .onnx, as past protobuf's 2 GB).
 */
export interface ExternalDataFile {
  /** The location the model's tensors name, relative to the model file: e.g. 'model.onnx_data'. */
  path: string;
  /**
   * The file's bytes, or where the runtime reads it itself: a URL (onnxruntime-web) or a file
   * path (onnxruntime-node).
   */
  data: Uint8Array | string;
}

/** Options for EngineRuntime.createSession. */
export interface CreateSessionOptions {
  /** The model's external-data files (none for a self-contained model). */
  externalData?: readonly ExternalDataFile[];
}

/** A runtime adapter: makes tensors and sessions. */
export interface EngineRuntime extends TensorFactory {
  /** A short label for the execution provider actually used, e.g. 'wasm', 'webgpu', 'cpu'. */
  readonly backend: string;
  createSession(model: Uint8Array | string, options?: CreateSessionOptions): Promise<EngineSession>;
}

/** Reads a float32 tensor's data, failing clearly on anything else. */
export function float32Data(t: EngineTensor, what = 'tensor'): Float32Array {
  if (!(t.data instanceof Float32Array)) {
    throw new Error(`${what}: expected float32 data, got ${t.type}`);
  }
  return t.data;
}
