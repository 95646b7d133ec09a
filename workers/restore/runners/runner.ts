/**
 * What the restore service (restore-service.ts) needs from each kind of model. A runner loads a
 * model for a backend and runs it with the engine; the service owns everything else, the same for
 * every kind: backend plan and fallback, recovery from memory faults and device loss, test
 * faults, error texts and the event sink.
 */
import type { ImageSize, RgbaImage } from '../../../engine/image.ts';
import type { EngineSession } from '../../../engine/session.ts';
import type { TileUpdate } from '../../../engine/upscale.ts';
import type { CpuEngine, ModelPrecision, RestoreRequest } from '../../contract/restore-protocol.ts';
import type { OrtWebBackend } from '../../runtime/ort-web.ts';
import type { LosableDevice } from '../faults/device-loss.ts';

/** A model loaded on one backend. */
export interface LoadedModel {
  /** Tells loads apart: a later request with the same key reuses this one. */
  readonly key: string;
  readonly backend: OrtWebBackend;
  /** What ran it on WASM (null on WebGPU and where the notion does not apply). */
  readonly cpuEngine: CpuEngine | null;
  /** Built-in models: the precision of the file that runs (absent for packs). */
  readonly precision?: ModelPrecision;
  /** WASM threads in use (1 on WebGPU). */
  readonly threads: number;
  /** The WebGPU device it runs on, watched for loss (null on WASM). */
  readonly device: LosableDevice | null;
  release(): Promise<void>;
}

/** What the service gives a runner for one load. */
export interface LoadContext {
  signal: AbortSignal;
  stage(stage: 'loading-runtime' | 'loading-model'): void;
  notice(message: string): void;
}

/** What the service gives a runner for one attempt. */
export interface RunContext {
  signal: AbortSignal;
  /** The attempt's size budget: input tile side in pixels, smaller after running out of memory. */
  tileSize: number;
  /** Wraps every session the runner runs: yielding, device watch, buffer limit, test faults. */
  wrap(session: EngineSession, outputScale: number): EngineSession;
  tile(update: TileUpdate): void;
  progress(done: number, total: number): void;
}

export interface ModelRunner<L extends LoadedModel = LoadedModel> {
  /** The key a load of this request on `backend` would have (to reuse what is loaded). */
  keyFor(request: RestoreRequest, backend: OrtWebBackend): Promise<string>;
  /**
   * The backend to use, given the planned one (a runner may refuse WebGPU for a model, e.g.
   * an fp16 pack on an adapter without shader-f16), with a notice when it differs.
   */
  chooseBackend(
    request: RestoreRequest,
    planned: OrtWebBackend,
  ): Promise<{ backend: OrtWebBackend; notice: string | null }>;
  load(request: RestoreRequest, backend: OrtWebBackend, context: LoadContext): Promise<L>;
  /** The tile size of the first attempt, and the context per side that bounds shrinking. */
  tiling(request: RestoreRequest, image: RgbaImage): { tileSize: number; overlap: number };
  run(
    loaded: L,
    request: RestoreRequest,
    image: RgbaImage,
    context: RunContext,
  ): Promise<ImageSize>;
}
