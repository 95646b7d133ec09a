/**
 * The worker's Comlink API: owns onnxruntime-web and the engine, runs one restore at a time,
 * streams finished tiles back (transferred, not copied), and falls back from WebGPU to WASM with
 * a notice when WebGPU cannot load the model or reports errors while running it.
 */
import * as Comlink from 'comlink';
import type { RgbaImage } from '../../engine/image.ts';
import type { EngineSession, TensorFactory } from '../../engine/session.ts';
import { planFor, upscaleImage, type TileUpdate } from '../../engine/upscale.ts';
import { createOrtWebRuntime, type OrtWebBackend } from '../runtime/ort-web.ts';
import {
  watchDevice,
  withDeviceWatch,
  type DeviceWatch,
  type LosableDevice,
} from './faults/device-loss.ts';
import { withBufferLimit } from './faults/memory.ts';
import { runWithRecovery } from './faults/recovery.ts';
import { injectFaults } from './faults/inject-faults.ts';
import { planBackend, probeGpu } from './gpu-probe.ts';
import { packIdOf } from '../contract/pack-model-id.ts';
import { restoreInstalledPack } from './packs/pack-restore.ts';
import { createKernelEngine } from './kernel-loader.ts';
import { loadOrt, threadsInUse, wasmThreadCount } from './ort-loader.ts';
import { bitmapToRgba } from './pixels.ts';
import { yieldingSession } from './yielding-session.ts';
import type {
  CpuEngine,
  RestoreApi,
  RestoreEvents,
  RestoreRequest,
  RestoreResult,
  TileMessage,
  WorkerInfo,
} from '../contract/restore-protocol.ts';

interface LoadedModel {
  key: string;
  session: EngineSession;
  tensors: TensorFactory;
  /** What runs the model on WASM (null on WebGPU). */
  cpuEngine: CpuEngine | null;
  /** WASM threads in use (1 on WebGPU). */
  threads: number;
  /** The WebGPU device the session runs on, watched for loss (null on WASM). */
  device: LosableDevice | null;
  watch: DeviceWatch | null;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The first line of an error message, short enough for a notice. onnxruntime's WebAssembly code
 * sometimes throws bare numbers (C++ exception pointers), which mean nothing to a user.
 */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const line = text.split('\n')[0].trim().slice(0, 240);
  return line && !/^\d+$/.test(line) ? line : 'an internal error in the runtime';
}

/** A tile for the UI that owns its buffer (copied only if it is a view into a larger one). */
function tileMessage(update: TileUpdate): TileMessage {
  const { data } = update;
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const owned = whole && data.buffer instanceof ArrayBuffer ? data : data.slice();
  return { rect: update.rect, data: owned, done: update.done, total: update.total };
}

/**
 * Wraps the UI's callbacks (a Comlink proxy, so each call is a message) so that a closed page
 * cannot crash the worker, tile buffers are transferred, and `flush()` waits until the page has
 * handled every call: the result must not overtake the last tiles, which travel on another port.
 */
function eventSink(events: RestoreEvents) {
  const pending = new Set<Promise<unknown>>();
  const track = (call: () => unknown) => {
    const promise = Promise.resolve()
      .then(call)
      .catch(() => undefined);
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  return {
    stage: (...args: Parameters<RestoreEvents['stage']>) => track(() => events.stage(...args)),
    notice: (message: string) => track(() => events.notice(message)),
    restart: (...args: Parameters<RestoreEvents['restart']>) =>
      track(() => events.restart(...args)),
    progress: (done: number, total: number) => track(() => events.progress(done, total)),
    tile: (update: TileUpdate) => {
      const message = tileMessage(update);
      track(() => events.tile(Comlink.transfer(message, [message.data.buffer as ArrayBuffer])));
    },
    flush: () => Promise.all([...pending]),
    /** Waits for every call, then closes the proxy's message port. */
    async close() {
      await Promise.all([...pending]);
      (events as Partial<Comlink.Remote<RestoreEvents>>)[Comlink.releaseProxy]?.();
    },
  };
}

type Sink = ReturnType<typeof eventSink>;

export function createRestoreService(): RestoreApi {
  let loaded: LoadedModel | null = null;
  let modelBytes: { url: string; bytes: Uint8Array } | null = null;
  let running: AbortController | null = null;
  /** Set when the WebGPU device was lost: ORT cannot make another in this worker. */
  let webgpuLost = false;

  async function fetchModel(url: string, signal: AbortSignal): Promise<Uint8Array> {
    if (modelBytes?.url === url) return modelBytes.bytes;
    let response: Response;
    try {
      response = await fetch(url, { signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new Error(`Could not download the model (${firstLine(error)}).`, { cause: error });
    }
    if (!response.ok) throw new Error(`Could not download the model (HTTP ${response.status}).`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    modelBytes = { url, bytes };
    return bytes;
  }

  async function load(
    backend: OrtWebBackend,
    request: RestoreRequest,
    sink: Sink,
    signal: AbortSignal,
  ): Promise<LoadedModel> {
    const wantKernels = backend === 'wasm' && (request.cpuEngine ?? 'kernels') === 'kernels';
    const key = `${backend}|${wantKernels ? 'kernels' : 'onnxruntime'}|${request.modelUrl}`;
    if (loaded?.key === key) return loaded;
    if (loaded) {
      const old = loaded;
      loaded = null;
      await old.session.release?.().catch(() => undefined);
    }
    if (wantKernels) {
      sink.stage('loading-model', backend);
      const bytes = await fetchModel(request.modelUrl, signal);
      signal.throwIfAborted();
      try {
        if (request.faults?.kernelsUnavailable)
          throw new Error('WebAssembly SIMD is not available (test fault)');
        const engine = await createKernelEngine(bytes);
        loaded = {
          key,
          session: engine.session,
          tensors: engine.tensors,
          cpuEngine: 'kernels',
          threads: engine.threads,
          device: null,
          watch: null,
        };
        return loaded;
      } catch (error) {
        signal.throwIfAborted();
        sink.notice(
          `The fast CPU kernels could not run this model (${firstLine(error)}), so onnxruntime-web was used.`,
        );
      }
    }
    sink.stage('loading-runtime', backend);
    const ort = await loadOrt(backend);
    sink.stage('loading-model', backend);
    const bytes = await fetchModel(request.modelUrl, signal);
    signal.throwIfAborted();
    const runtime = createOrtWebRuntime(ort, backend);
    const session = await runtime.createSession(bytes);
    const device =
      backend === 'webgpu'
        ? (((await ort.env.webgpu.device) as unknown as LosableDevice | undefined) ?? null)
        : null;
    loaded = {
      key,
      session,
      tensors: runtime,
      cpuEngine: backend === 'wasm' ? 'onnxruntime' : null,
      threads: backend === 'wasm' ? await threadsInUse('wasm') : 1,
      device,
      watch: device ? watchDevice(device) : null,
    };
    return loaded;
  }

  /**
   * The model's session as the engine runs it: yielding before each tile, failing fast when the
   * WebGPU device is lost or a tile would exceed its buffer limit, and with any test faults.
   */
  function runnableSession(
    model: LoadedModel,
    request: RestoreRequest,
    signal: AbortSignal,
  ): EngineSession {
    const faults = request.faults;
    let session = yieldingSession(model.session, signal);
    if (model.watch) session = withDeviceWatch(session, model.watch);
    const gpuLimit = model.device?.limits?.maxStorageBufferBindingSize ?? null;
    session = faults?.bufferLimitBytes
      ? withBufferLimit(session, request.scale, faults.bufferLimitBytes, 'forced test buffer limit')
      : withBufferLimit(session, request.scale, gpuLimit, 'GPU buffer limit');
    return injectFaults(session, faults, { device: model.device, crash: () => self.close() });
  }

  async function upscale(
    model: LoadedModel,
    image: RgbaImage,
    request: RestoreRequest,
    sink: Sink,
    signal: AbortSignal,
  ): Promise<RgbaImage> {
    const tiling = { tileSize: request.tileSize, overlap: request.overlap };
    sink.progress(0, planFor(image.width, image.height, tiling).tiles.length);
    return upscaleImage(runnableSession(model, request, signal), model.tensors, image, {
      ...tiling,
      scale: request.scale,
      inputRange: request.inputRange,
      signal,
      onTile: sink.tile,
    });
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
      // An installed model pack (`pack:<id>`, src/features/model-manager): the latent pipeline.
      const packId = packIdOf(request.modelId);
      if (packId !== null) {
        const result = await restoreInstalledPack(packId, image, request.backend, sink, signal, {
          colorFix: request.colorFix,
        });
        await sink.flush();
        return { ...result, cpuEngine: null, totalMs: performance.now() - started };
      }
      const plan = await planBackend(request.backend);
      if (plan.notice) sink.notice(plan.notice);
      let backend: OrtWebBackend = plan.backend;
      if (backend === 'webgpu' && webgpuLost) {
        sink.notice(
          'The GPU stopped working earlier, so WASM was used (reload to use WebGPU again).',
        );
        backend = 'wasm';
      }

      let model: LoadedModel;
      try {
        model = await load(backend, request, sink, signal);
      } catch (error) {
        if (backend !== 'webgpu' || signal.aborted) throw error;
        sink.notice(
          `WebGPU could not load this model (${firstLine(error)}), so WASM was used instead.`,
        );
        backend = 'wasm';
        model = await load(backend, request, sink, signal);
      }
      signal.throwIfAborted();

      sink.stage('restoring', backend);
      let runStart = performance.now();
      const overlap = request.overlap;
      // The tile size in effect (a tile is never larger than the image).
      const firstPlan = planFor(image.width, image.height, {
        tileSize: request.tileSize ?? request.faults?.tileSize,
        overlap,
      });
      const recovered = await runWithRecovery({
        backend,
        tileSize: Math.max(firstPlan.tileWidth, firstPlan.tileHeight),
        overlap: overlap ?? 0,
        signal,
        attempt: async (attemptBackend, tileSize) => {
          if (attemptBackend !== backend || !model) {
            model = await load(attemptBackend, request, sink, signal);
            sink.stage('restoring', attemptBackend);
            runStart = performance.now();
          }
          backend = attemptBackend;
          return upscale(model, image, { ...request, tileSize }, sink, signal);
        },
        notice: sink.notice,
        restart: (to) => {
          sink.restart(to);
          runStart = performance.now();
        },
        deviceLost: () => {
          // A session on a lost device may never settle: drop it without waiting for it.
          webgpuLost = true;
          if (loaded?.device) loaded = null;
        },
      });
      backend = recovered.backend;
      const finished = performance.now();
      await sink.flush();
      return {
        width: recovered.output.width,
        height: recovered.output.height,
        backend,
        threads: model.threads,
        cpuEngine: model.cpuEngine,
        runMs: finished - runStart,
        totalMs: finished - started,
      };
    } catch (error) {
      await sink.flush();
      if (signal.aborted) throw namedError('AbortError', 'The restore was cancelled.');
      throw error instanceof Error && error.message ? error : new Error(firstLine(error));
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
      };
    },
    restore,
    cancel(): void {
      running?.abort();
    },
  };
}
