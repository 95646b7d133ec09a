/**
 * What the bench page (bench/page/main.ts) offers to the Node driver (bench/driver/main.ts), which
 * calls it through Playwright as `window.gendrBench`. Times are milliseconds from
 * performance.now(); every call does one warm-up run and then `runs` measured ones.
 */
import type { CpuEngine } from '../../workers/contract/restore-protocol.ts';

export type { CpuEngine };

/** onnxruntime-web session options the bench varies (passed through as they are). */
export interface OrtSessionVariant {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  enableMemPattern?: boolean;
  enableCpuMemArena?: boolean;
  executionMode?: 'sequential' | 'parallel';
  /** Fixes the symbolic input dimensions ('height', 'width') to the tile size. */
  freeDimensionOverrides?: Record<string, number>;
}

export interface PageInfo {
  userAgent: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  webgpuAdapter: string | null;
}

/** One run of our app's own worker (workers/restore/restore.worker.ts, via src/lib/restore-client.ts). */
export interface AppRun {
  wallMs: number;
  firstTileMs: number;
  tiles: number;
  backend: string;
  /** What the worker says ran the model (RestoreResult.cpuEngine). */
  cpuEngine: CpuEngine | null;
  threads: number;
  /** The worker's own figures; inferenceMs is the sum of session.run within runMs. */
  runMs: number;
  inferenceMs: number;
  totalMs: number;
}

/**
 * A restore through the app's worker on WASM with the given CPU engine. The page rejects when a
 * run (warm-up included) reports another backend or engine: a silent fallback is never measured.
 */
export interface AppRequest {
  modelId: string;
  /** URL of the input image (PNG). */
  image: string;
  runs: number;
  cpuEngine: CpuEngine;
  tileSize?: number;
}

/** Kernel variants for the bench (true: the app's choice, Winograd and relaxed SIMD where present). */
export interface BenchKernels {
  /** Winograd for 3x3 and 5x5 convolutions (default true); false: direct convolutions only. */
  winograd?: boolean;
  /** Which committed build: plain SIMD128 or relaxed SIMD (default: relaxed where supported). */
  flavour?: 'simd' | 'relaxed';
}

/** The engine's pipeline in the bench worker, with session.run timed. */
export interface PipelineRequest {
  modelUrl: string;
  /** See BenchWorkerRequest 'init'. */
  kernels?: boolean | BenchKernels;
  image: string;
  runs: number;
  scale: number;
  inputRange: [number, number];
  overlap: number;
  tileSize?: number;
  threads: number;
  session?: OrtSessionVariant;
}

export interface PipelineRun {
  wallMs: number;
  /** Sum of session.run times. */
  inferenceMs: number;
  firstTileMs: number;
  tiles: number;
}

/**
 * The app's worker and the bench worker's pipeline on one job, measured in `runs` pairs (after one
 * warm-up of each) whose order alternates. `app.runs` and `pipeline.runs` are not used; the bench
 * worker runs as many threads as the app's worker reports.
 */
export interface OverheadRequest {
  app: AppRequest;
  pipeline: PipelineRequest;
  runs: number;
}

export interface OverheadPair {
  app: AppRun;
  pipeline: PipelineRun;
}

/** One untiled session.run on an image-sized input (raw onnxruntime-web, no pipeline). */
export interface RawRequest {
  modelUrl: string;
  kernels?: boolean | BenchKernels;
  size: number;
  rangeMax: number;
  runs: number;
  threads: number;
  session?: OrtSessionVariant;
  /** Splits the input in `workers` horizontal bands (with `overlap` rows of context) run by that many workers at once. */
  workers?: number;
  overlap?: number;
}

export interface PeerRequest {
  /** 'esrgan-medium' | 'esrgan-thick' | 'esrgan-slim'. */
  family: string;
  scale: number;
  image: string;
  runs: number;
  backend: 'default' | 'wasm';
  /** tfjs WASM threads (default: what tfjs picks itself). */
  threads?: number;
  patchSize?: number;
  padding?: number;
  /** Skip the warm-up run (for the very slow WebGL-on-CPU case: one cold run is all it gets). */
  noWarmup?: boolean;
}

export interface PeerRun {
  wallMs: number;
  backend: string;
  threads: number | null;
}

export interface BenchApi {
  info(): Promise<PageInfo>;
  app(request: AppRequest): Promise<AppRun[]>;
  pipeline(request: PipelineRequest): Promise<PipelineRun[]>;
  overhead(request: OverheadRequest): Promise<OverheadPair[]>;
  raw(request: RawRequest): Promise<number[]>;
  peer(request: PeerRequest): Promise<PeerRun[]>;
}

/** Messages to the bench worker (bench/page/bench.worker.ts): load once, then run many times. */
export type BenchWorkerRequest =
  | {
      kind: 'init';
      modelUrl: string;
      threads: number;
      session?: OrtSessionVariant;
      /**
       * Run on the hand-written WASM kernels (engine/kernels, the committed build the app's
       * worker loads, same flavour choice) instead of onnxruntime-web.
       */
      kernels?: boolean | BenchKernels;
    }
  | { kind: 'raw'; width: number; height: number; rangeMax: number }
  | {
      kind: 'pipeline';
      image: ImageBitmap;
      scale: number;
      inputRange: [number, number];
      overlap: number;
      tileSize?: number;
    };

export type BenchWorkerMessage =
  | { kind: 'ready'; threads: number }
  | {
      kind: 'tile';
      rect: { x: number; y: number; width: number; height: number };
      data: Uint8ClampedArray;
    }
  | { kind: 'raw-done'; ms: number }
  | {
      kind: 'pipeline-done';
      run: Omit<PipelineRun, 'firstTileMs'> & { width: number; height: number };
    }
  | { kind: 'error'; message: string };
