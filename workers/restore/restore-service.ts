/**
 * The restore worker's Comlink API: one restore at a time, for every kind of model, through one
 * path. A runner per model kind (runners/) loads and runs the model; this service applies the
 * same policy to all of them:
 *  - the backend plan (gpu-probe.ts), the runner's own backend choice, and the WebGPU -> WASM
 *    fallback when WebGPU cannot load the model;
 *  - recovery while running (faults/recovery.ts): smaller tiles after running out of memory,
 *    WASM after device loss or WebGPU errors;
 *  - every session wrapped alike: timed, yielding before each run, device-loss watch, buffer
 *    limit, test faults;
 *  - one error formatter (workers/contract/error-text.ts) and one event sink (event-sink.ts).
 */
import type { RgbaImage } from '../../engine/image.ts';
import type { EngineSession } from '../../engine/session.ts';
import { errorLine } from '../contract/error-text.ts';
import type { ModelKind } from '../contract/model.ts';
import type {
  RestoreApi,
  RestoreEvents,
  RestoreRequest,
  RestoreResult,
  WorkerInfo,
} from '../contract/restore-protocol.ts';
import type { OrtWebBackend } from '../runtime/ort-web.ts';
import { eventSink, type Sink } from './event-sink.ts';
import { watchDevice, withDeviceWatch, type DeviceWatch } from './faults/device-loss.ts';
import { injectFaults } from './faults/inject-faults.ts';
import { withBufferLimit } from './faults/memory.ts';
import { runWithRecovery } from './faults/recovery.ts';
import { planBackend, probeGpu } from './gpu-probe.ts';
import { wasmThreadCount } from './ort-loader.ts';
import { bitmapToRgba } from './pixels.ts';
import { builtinRunner } from './runners/builtin-runner.ts';
import { packRunner } from './runners/pack-runner.ts';
import type { LoadedModel, ModelRunner } from './runners/runner.ts';
import { timedSession, type RunClock } from './timed-session.ts';
import { yieldingSession } from './yielding-session.ts';

/** The runner of each kind of model: a new kind adds an entry. */
const RUNNERS: { [K in ModelKind]: ModelRunner } = {
  builtin: builtinRunner as ModelRunner,
  pack: packRunner as ModelRunner,
};

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export function createRestoreService(): RestoreApi {
  /** The model last used, kept loaded for the next restore (released when another is loaded). */
  let loaded: { model: LoadedModel; watch: DeviceWatch | null } | null = null;
  let running: AbortController | null = null;
  /** Set when the WebGPU device was lost: ORT cannot make another in this worker. */
  let webgpuLost = false;

  async function load(
    runner: ModelRunner,
    request: RestoreRequest,
    backend: OrtWebBackend,
    sink: Sink,
    signal: AbortSignal,
  ): Promise<{ model: LoadedModel; watch: DeviceWatch | null }> {
    const key = await runner.keyFor(request, backend);
    if (loaded?.model.key === key) return loaded;
    if (loaded) {
      const old = loaded;
      loaded = null;
      await old.model.release().catch(() => undefined);
    }
    const model = await runner.load(request, backend, {
      signal,
      stage: (stage) => sink.stage(stage, backend),
      notice: sink.notice,
    });
    if (signal.aborted) {
      await model.release().catch(() => undefined);
      signal.throwIfAborted();
    }
    loaded = { model, watch: model.device ? watchDevice(model.device) : null };
    return loaded;
  }

  /** A session as every runner runs it: timed, yielding, watched, limited, with any test faults. */
  function wrapSession(
    session: EngineSession,
    outputScale: number,
    current: { model: LoadedModel; watch: DeviceWatch | null },
    request: RestoreRequest,
    signal: AbortSignal,
    counter: { runs: number },
    clock: RunClock,
  ): EngineSession {
    const faults = request.faults;
    const device = current.model.device;
    let wrapped = yieldingSession(timedSession(session, clock), signal);
    if (current.watch) wrapped = withDeviceWatch(wrapped, current.watch);
    const gpuLimit = device?.limits?.maxStorageBufferBindingSize ?? null;
    wrapped = faults?.bufferLimitBytes
      ? withBufferLimit(wrapped, outputScale, faults.bufferLimitBytes, 'forced test buffer limit')
      : withBufferLimit(wrapped, outputScale, gpuLimit, 'GPU buffer limit');
    return injectFaults(wrapped, faults, { device, crash: () => self.close(), counter });
  }

  async function restoreImage(
    request: RestoreRequest,
    image: RgbaImage,
    sink: Sink,
    signal: AbortSignal,
    started: number,
  ): Promise<RestoreResult> {
    const runner = RUNNERS[request.model.kind];
    const plan = await planBackend(request.backend);
    if (plan.notice) sink.notice(plan.notice);
    let planned: OrtWebBackend = plan.backend;
    if (planned === 'webgpu' && webgpuLost) {
      sink.notice(
        'The GPU stopped working earlier, so WASM was used (reload to use WebGPU again).',
      );
      planned = 'wasm';
    }
    const choice = await runner.chooseBackend(request, planned);
    if (choice.notice) sink.notice(choice.notice);
    let backend = choice.backend;

    let current: { model: LoadedModel; watch: DeviceWatch | null };
    try {
      current = await load(runner, request, backend, sink, signal);
    } catch (error) {
      if (backend !== 'webgpu' || signal.aborted) throw error;
      sink.notice(
        `WebGPU could not load this model (${errorLine(error)}), so WASM was used instead.`,
      );
      backend = 'wasm';
      current = await load(runner, request, backend, sink, signal);
    }
    signal.throwIfAborted();

    sink.stage('restoring', backend);
    let runStart = performance.now();
    const tiling = runner.tiling(request, image);
    const faultCounter = { runs: 0 };
    // Restarted in step with runStart, so that both cover the attempt that finished.
    let clock: RunClock = { ms: 0 };
    const recovered = await runWithRecovery({
      backend,
      tileSize: tiling.tileSize,
      overlap: tiling.overlap,
      signal,
      attempt: async (attemptBackend, tileSize) => {
        if (attemptBackend !== current.model.backend || loaded !== current) {
          current = await load(runner, request, attemptBackend, sink, signal);
          sink.stage('restoring', attemptBackend);
          runStart = performance.now();
          clock = { ms: 0 };
        }
        backend = attemptBackend;
        const attemptModel = current;
        const attemptClock = clock;
        return runner.run(attemptModel.model, request, image, {
          signal,
          tileSize,
          wrap: (session, outputScale) =>
            wrapSession(
              session,
              outputScale,
              attemptModel,
              request,
              signal,
              faultCounter,
              attemptClock,
            ),
          tile: sink.tile,
          progress: sink.progress,
        });
      },
      notice: sink.notice,
      restart: (to) => {
        sink.restart(to);
        runStart = performance.now();
        clock = { ms: 0 };
      },
      deviceLost: () => {
        // A session on a lost device may never settle: drop it without waiting for it.
        webgpuLost = true;
        if (loaded?.model.device) loaded = null;
      },
    });
    const finished = performance.now();
    return {
      width: recovered.output.width,
      height: recovered.output.height,
      backend: recovered.backend,
      threads: current.model.threads,
      cpuEngine: current.model.cpuEngine,
      precision: current.model.precision ?? null,
      runMs: finished - runStart,
      inferenceMs: clock.ms,
      totalMs: finished - started,
    };
  }

  async function restore(request: RestoreRequest, events: RestoreEvents): Promise<RestoreResult> {
    if (running) {
      request.image.close();
      throw namedError('BusyError', 'A restore is already running.');
    }
    const controller = new AbortController();
    running = controller;
    const { signal } = controller;
    const sink = eventSink(events);
    const started = performance.now();
    try {
      const image = bitmapToRgba(request.image);
      const result = await restoreImage(request, image, sink, signal, started);
      await sink.flush();
      return result;
    } catch (error) {
      await sink.flush();
      if (signal.aborted) throw namedError('AbortError', 'The restore was cancelled.');
      throw error instanceof Error && error.message ? error : new Error(errorLine(error));
    } finally {
      if (running === controller) running = null;
      await sink.close().catch(() => undefined);
    }
  }

  return {
    async info(): Promise<WorkerInfo> {
      const gpu = await probeGpu();
      return {
        crossOriginIsolated: self.crossOriginIsolated,
        hardwareConcurrency: navigator.hardwareConcurrency || 1,
        wasmThreads: wasmThreadCount(),
        webgpuAdapter: gpu.description,
        webgpuHardware: gpu.adapter !== null && !gpu.software,
      };
    },
    restore,
    cancel(): void {
      running?.abort();
    },
  };
}
