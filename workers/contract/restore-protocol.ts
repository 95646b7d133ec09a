/**
 * The messages between the UI (src/) and the restore worker (workers/restore/restore.worker.ts),
 * carried by Comlink. Pixel buffers travel as transferables, never as copies.
 */
import type { Rect } from '../../engine/image.ts';
import type { GpuPrecision, ModelPrecision } from '../../engine/models/builtin-precision.ts';
import type { ColorFix, ModelDescriptor } from './model.ts';
import type { TestFaults } from './test-faults.ts';

export type { ColorFix, GpuPrecision, ModelDescriptor, ModelPrecision };

/** What the user asked for in the backend setting. */
export type BackendPreference = 'auto' | 'webgpu' | 'wasm';
/** The execution provider a restore actually ran on. */
export type BackendName = 'webgpu' | 'wasm';
/**
 * What runs a built-in model on WASM: the hand-written SIMD kernels (fast, fp32, the default) or
 * onnxruntime-web (the reference path). Both compute in fp32 and match the original models.
 */
export type CpuEngine = 'kernels' | 'onnxruntime';

export interface WorkerInfo {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** WASM threads the runtime will use (1 when the page is not cross-origin isolated). */
  wasmThreads: number;
  /** A short description of the WebGPU adapter, or null when there is none. */
  webgpuAdapter: string | null;
  /** A hardware WebGPU adapter (not a software rasteriser such as SwiftShader). */
  webgpuHardware: boolean;
}

export interface RestoreRequest {
  /** The decoded source; transferred to the worker, which reads its pixels and closes it. */
  image: ImageBitmap;
  /** What to run: a built-in model or an installed pack (workers/contract/model.ts). */
  model: ModelDescriptor;
  backend: BackendPreference;
  /** Built-in models: input tile size in pixels, context included; the engine's default when absent. */
  tileSize?: number;
  /** Built-in models on WASM: which engine runs them ('kernels' when absent). */
  cpuEngine?: CpuEngine;
  /**
   * Built-in models on WebGPU: 'auto' (when absent) runs a model's fp16 variant where the adapter
   * has shader-f16; 'fp32' always runs the exact fp32 model.
   */
  gpuPrecision?: GpuPrecision;
  /** TEST-ONLY: faults to inject (see workers/contract/test-faults.ts). */
  faults?: TestFaults;
}

export type RestoreStage = 'loading-runtime' | 'loading-model' | 'restoring';

/** One finished output tile: `data` is the RGBA of `rect` in output pixels (transferred). */
export interface TileMessage {
  rect: Rect;
  data: Uint8ClampedArray;
  done: number;
  total: number;
}

/** Callbacks the UI passes (as a Comlink proxy) with each restore. */
export interface RestoreEvents {
  stage(stage: RestoreStage, backend: BackendName | null): void;
  /** Something the user should know that is not an error, e.g. a fallback from WebGPU to WASM. */
  notice(message: string): void;
  /** The run starts over from the first tile on another backend (after a WebGPU failure). */
  restart(backend: BackendName): void;
  tile(update: TileMessage): void;
  /** Tiles done / total, also before the first tile is done. */
  progress(done: number, total: number): void;
}

export interface RestoreResult {
  /** Output size. The pixels themselves already reached the UI as tiles, which cover it exactly once. */
  width: number;
  height: number;
  backend: BackendName;
  /** WASM threads in use (1 for WebGPU runs, which need none). */
  threads: number;
  /** The engine that ran a WASM restore (null on WebGPU and for model packs). */
  cpuEngine: CpuEngine | null;
  /** The precision of the built-in model file that ran (null for model packs). */
  precision: ModelPrecision | null;
  /** Milliseconds spent in the engine, without model loading. */
  runMs: number;
  /** Of runMs, the milliseconds inside the models' session.run calls, summed. */
  inferenceMs: number;
  /** Milliseconds from the call to the result, model loading included. */
  totalMs: number;
}

export interface RestoreApi {
  info(): Promise<WorkerInfo>;
  /** One call at a time: rejects with an Error named 'BusyError' while another runs. */
  restore(request: RestoreRequest, events: RestoreEvents): Promise<RestoreResult>;
  /** Cancels the running restore, which then rejects with an Error named 'AbortError'. */
  cancel(): void;
}
