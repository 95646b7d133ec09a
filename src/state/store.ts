/**
 * App state (zustand). Canvases live here as DOM elements made outside React: the worker's tiles
 * are painted straight into the output canvas, with no render per tile.
 */
import { create } from 'zustand';
import { errorText } from '../../workers/contract/error-text.ts';
import type { ModelDescriptor } from '../../workers/contract/model.ts';
import type {
  BackendName,
  BackendPreference,
  ColorFix,
  CpuEngine,
  GpuPrecision,
  ModelPrecision,
  RestoreStage,
  TileMessage,
} from '../../workers/contract/restore-protocol.ts';
import { testFaultsFor } from '../features/faults/test-faults.ts';
import { encodeResult } from '../features/inputs/encode-result.ts';
import type { ImageMetadata } from '../features/inputs/metadata/image-metadata.ts';
import type { Size } from '../features/inputs/size-check.ts';
import {
  BITMAP_OPTIONS,
  decodeImage,
  ImageDecodeError,
  ImageTooLargeError,
} from '../lib/decode-image.ts';
import { outputFileName, saveBlob, type OutputFormat } from '../lib/encode-image.ts';
import { builtinModelEntry, fetchModelIndex, type AppModel } from '../lib/model-index.ts';
import { restoreClient } from '../lib/restore-client.ts';
import { recordRun } from '../lib/time-estimate.ts';
import { keepModelOffline } from '../pwa/offline-models.ts';
import { isAbortError, runRestore } from '../lib/run-restore.ts';
import { clearCanvas, makeCanvas, paintTile, resizeCanvas } from '../lib/tile-canvas.ts';
import { outputSizeProblem } from './limits.ts';

export interface SourceImage {
  name: string;
  width: number;
  height: number;
  bitmap: ImageBitmap;
  /** The original at its own size (displayed scaled up, smoothly). */
  canvas: HTMLCanvasElement;
  /** EXIF and ICC profile to carry over to the result (src/features/inputs). */
  metadata?: ImageMetadata;
}

/** An image refused as too large for this device: the user may downscale it instead. */
export interface SizeChoiceState {
  file: Blob;
  name: string;
  message: string;
  downscaleTo: Size | null;
}

export type RunPhase = RestoreStage | 'starting' | 'done' | 'cancelled' | 'failed';

export interface TileLogEntry {
  done: number;
  total: number;
  /** performance.now() when the tile was painted. */
  at: number;
}

export interface RunState {
  id: number;
  modelId: string;
  modelName: string;
  scale: number;
  phase: RunPhase;
  backend: BackendName | null;
  threads: number | null;
  /** What ran a WASM restore (null until done, on WebGPU and for packs). */
  cpuEngine: CpuEngine | null;
  /** The precision of the built-in model file that ran (null until done, and for packs). */
  precision: ModelPrecision | null;
  done: number;
  total: number;
  startedAt: number;
  /** When the engine started on the first tile (for the ETA). */
  restoringSince: number | null;
  finishedAt: number | null;
  runMs: number | null;
  width: number;
  height: number;
  /** The result, filled in tile by tile. */
  canvas: HTMLCanvasElement;
  notices: string[];
  error: string | null;
  tileLog: TileLogEntry[];
}

export interface WorkerStatus {
  crossOriginIsolated: boolean;
  wasmThreads: number;
  webgpuAdapter: string | null;
  webgpuHardware: boolean;
}

/** How one restore ended, for callers that wait for it (the batch queue). */
export interface RunOutcome {
  phase: 'done' | 'cancelled' | 'failed';
  run: RunState;
}

/** How opening a file ended: refused (decode error or too large), or restored. */
export type OpenOutcome =
  | { kind: 'refused'; message: string; sizeChoice: SizeChoiceState | null }
  | { kind: 'superseded' }
  | { kind: 'restored'; outcome: RunOutcome | null; note: string | null };

/** Settings a restore runs with; the picker's current ones when absent. */
export interface RunSettings {
  model?: AppModel;
  /** Output scale when it differs from the model's own (the result is resized after the run). */
  outputScale?: number | null;
}

export interface AppState {
  models: AppModel[];
  modelsError: string | null;
  modelId: string | null;
  /**
   * The output scale when it differs from the selected model's own: the model runs at its scale
   * and the result is resized with a high-quality filter, as Real-ESRGAN's --outscale does.
   */
  outputScale: number | null;
  backend: BackendPreference;
  /** Built-in models on WASM: the fast kernels (default) or onnxruntime-web. */
  cpuEngine: CpuEngine;
  /** Built-in models on WebGPU: fp16 where the adapter has shader-f16 ('auto'), or always fp32. */
  gpuPrecision: GpuPrecision;
  /** Colour fix after decoding, for model packs (AdaIN by default). */
  colorFix: ColorFix;
  source: SourceImage | null;
  sourceError: string | null;
  sourceNote: string | null;
  sizeChoice: SizeChoiceState | null;
  run: RunState | null;
  worker: WorkerStatus | null;
  format: OutputFormat;
  quality: number;
  downloadError: string | null;
  downloading: boolean;

  init(): Promise<void>;
  selectModel(id: string, outputScale?: number | null): void;
  setBackend(backend: BackendPreference): void;
  setCpuEngine(cpuEngine: CpuEngine): void;
  setGpuPrecision(gpuPrecision: GpuPrecision): void;
  setColorFix(colorFix: ColorFix): void;
  setFormat(format: OutputFormat): void;
  setQuality(quality: number): void;
  openFile(
    file: Blob,
    name: string,
    options?: { downscaleTo?: Size } & RunSettings,
  ): Promise<OpenOutcome>;
  dismissSizeChoice(): void;
  restore(settings?: RunSettings): Promise<RunOutcome | null>;
  cancel(): void;
  download(): Promise<void>;
}

let runSeq = 0;
let openSeq = 0;
/** Cancels the current run (queued or running). */
let runAbort: AbortController | null = null;

/** The descriptor a restore runs with: packs take the colour fix chosen in the app. */
function descriptorFor(model: AppModel, colorFix: ColorFix): ModelDescriptor {
  return model.descriptor.kind === 'pack' ? { ...model.descriptor, colorFix } : model.descriptor;
}

export const useAppStore = create<AppState>()((set, get) => {
  /** Applies a change to the run with this id only, so a late message from an old run is dropped. */
  const updateRun = (
    id: number,
    change: Partial<RunState> | ((run: RunState) => Partial<RunState>),
  ) => {
    set((state) => {
      if (!state.run || state.run.id !== id) return {};
      const patch = typeof change === 'function' ? change(state.run) : change;
      return { run: { ...state.run, ...patch } };
    });
  };

  const tilePainted = (id: number, tile: TileMessage) => {
    const run = get().run;
    if (!run || run.id !== id) return;
    paintTile(run.canvas, tile);
    const at = performance.now();
    updateRun(id, (r) => ({
      done: tile.done,
      total: tile.total,
      tileLog: [...r.tileLog, { done: tile.done, total: tile.total, at }],
    }));
  };

  /** One restore of `source` with `model`, from the first tile to done / cancelled / failed. */
  const runOnWorker = async (
    source: SourceImage,
    model: AppModel,
    outputScale: number | null,
  ): Promise<RunOutcome> => {
    const { backend, cpuEngine, gpuPrecision, colorFix } = get();
    const id = ++runSeq;
    const scale = outputScale ?? model.scale;
    const nativeWidth = source.width * model.scale;
    const nativeHeight = source.height * model.scale;
    const width = source.width * scale;
    const height = source.height * scale;
    const sizeProblem = outputSizeProblem(source.width, source.height, model.scale);
    const abort = new AbortController();
    runAbort = abort;
    set({
      downloadError: null,
      run: {
        id,
        modelId: model.id,
        modelName: outputScale ? `${model.name} → ×${scale}` : model.name,
        scale,
        phase: sizeProblem ? 'failed' : 'starting',
        backend: null,
        threads: null,
        cpuEngine: null,
        precision: null,
        done: 0,
        total: 0,
        startedAt: performance.now(),
        restoringSince: null,
        finishedAt: null,
        runMs: null,
        width,
        height,
        canvas: makeCanvas(sizeProblem ? 1 : nativeWidth, sizeProblem ? 1 : nativeHeight),
        notices: [],
        error: sizeProblem,
        tileLog: [],
      },
    });
    const outcome = (phase: RunOutcome['phase']): RunOutcome => {
      if (runAbort === abort) runAbort = null;
      const run = get().run;
      return { phase, run: run && run.id === id ? run : ({ ...run, phase } as RunState) };
    };
    if (sizeProblem) return outcome('failed');
    try {
      const image = await createImageBitmap(source.bitmap, BITMAP_OPTIONS);
      const result = await runRestore(descriptorFor(model, colorFix), image, {
        backend,
        cpuEngine,
        gpuPrecision,
        faults: testFaultsFor(source.name),
        signal: abort.signal,
        onStage: (stage, backendName) =>
          updateRun(id, (r) => ({
            phase: stage,
            backend: backendName ?? r.backend,
            restoringSince: stage === 'restoring' ? performance.now() : r.restoringSince,
          })),
        onNotice: (message) => updateRun(id, (r) => ({ notices: [...r.notices, message] })),
        onRestart: (backendName) => {
          const current = get().run;
          if (current?.id === id) clearCanvas(current.canvas);
          updateRun(id, { backend: backendName, done: 0, tileLog: [] });
        },
        onProgress: (done, total) => updateRun(id, { done, total }),
        onTile: (tile) => tilePainted(id, tile),
      });
      if (width !== nativeWidth || height !== nativeHeight) {
        const current = get().run;
        if (current?.id === id)
          updateRun(id, { canvas: await resizeCanvas(current.canvas, width, height) });
      }
      recordRun(model, source.width, source.height, result.backend, result.runMs);
      if (model.descriptor.kind === 'builtin') {
        const { manifest } = model.descriptor;
        const file = result.precision === 'fp16' ? manifest.variants?.fp16?.file : manifest.file;
        void keepModelOffline(manifest.id, file ?? manifest.file);
      }
      updateRun(id, {
        phase: 'done',
        backend: result.backend,
        threads: result.threads,
        cpuEngine: result.cpuEngine,
        precision: result.precision,
        runMs: result.runMs,
        finishedAt: performance.now(),
      });
      return outcome('done');
    } catch (error) {
      const cancelled = isAbortError(error);
      updateRun(id, {
        phase: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? null : `Restoring failed: ${errorText(error)}`,
        finishedAt: performance.now(),
      });
      return outcome(cancelled ? 'cancelled' : 'failed');
    }
  };

  return {
    models: [],
    modelsError: null,
    modelId: null,
    outputScale: null,
    backend: 'auto',
    cpuEngine: 'kernels',
    gpuPrecision: 'auto',
    colorFix: 'adain',
    source: null,
    sourceError: null,
    sourceNote: null,
    sizeChoice: null,
    run: null,
    worker: null,
    format: 'png',
    quality: 0.9,
    downloadError: null,
    downloading: false,

    async init() {
      const client = restoreClient();
      const info = client
        .info()
        .then((worker) => {
          set({ worker });
          return worker;
        })
        .catch(() => null);
      try {
        const index = await fetchModelIndex();
        // The best photo model where a hardware GPU runs it; the fast one on the CPU.
        const gpu = index.defaultGpu && (await info)?.webgpuHardware ? index.defaultGpu : null;
        const fallback =
          index.models.find((m) => m.id === (gpu ?? index.default)) ?? index.models[0];
        set({
          models: index.models.map(builtinModelEntry),
          modelId: get().modelId ?? fallback.id,
          modelsError: null,
        });
        // A photo opened before the list arrived has not been restored yet.
        if (get().source && !get().run) await get().restore();
      } catch (error) {
        set({ modelsError: errorText(error) });
      }
    },

    selectModel(id, outputScale = null) {
      const model = get().models.find((m) => m.id === id);
      if (!model) return;
      const resized = outputScale !== null && outputScale !== model.scale ? outputScale : null;
      set({ modelId: id, outputScale: resized });
    },
    setBackend(backend) {
      set({ backend });
    },
    setCpuEngine(cpuEngine) {
      set({ cpuEngine });
    },
    setGpuPrecision(gpuPrecision) {
      set({ gpuPrecision });
    },
    setColorFix(colorFix) {
      set({ colorFix });
    },
    setFormat(format) {
      set({ format, downloadError: null });
    },
    setQuality(quality) {
      set({ quality: Math.min(1, Math.max(0.05, quality)) });
    },

    async openFile(file, name, options = {}) {
      const seq = ++openSeq;
      let decoded;
      try {
        const { models, modelId } = get();
        const scale = (options.model ?? models.find((m) => m.id === modelId))?.scale ?? 4;
        // Decoded with the model's own scale in mind: the run makes that much before resizing.
        decoded = await decodeImage(file, name, { scale, downscaleTo: options.downscaleTo });
      } catch (error) {
        if (seq !== openSeq) return { kind: 'superseded' };
        const message =
          error instanceof ImageDecodeError
            ? error.message
            : `“${name}” could not be opened: ${errorText(error)}`;
        const sizeChoice =
          error instanceof ImageTooLargeError
            ? { file, name, message, downscaleTo: error.downscaleTo }
            : null;
        set({ sourceError: sizeChoice ? null : message, sourceNote: null, sizeChoice });
        return { kind: 'refused', message, sizeChoice };
      }
      if (seq !== openSeq) {
        decoded.bitmap.close();
        return { kind: 'superseded' };
      }
      const canvas = makeCanvas(decoded.width, decoded.height);
      canvas.getContext('2d')?.drawImage(decoded.bitmap, 0, 0);
      get().source?.bitmap.close();
      get().cancel();
      set({
        source: {
          name: decoded.name,
          width: decoded.width,
          height: decoded.height,
          bitmap: decoded.bitmap,
          canvas,
          metadata: decoded.metadata,
        },
        sourceError: null,
        sourceNote: decoded.note,
        sizeChoice: null,
        run: null,
        downloadError: null,
      });
      const outcome = await get().restore({
        model: options.model,
        outputScale: options.outputScale,
      });
      return { kind: 'restored', outcome, note: decoded.note };
    },

    dismissSizeChoice() {
      set({ sizeChoice: null });
    },

    async restore(settings = {}) {
      const { source, models, modelId, outputScale } = get();
      const model = settings.model ?? models.find((m) => m.id === modelId);
      if (!source || !model) return null;
      // One run at a time: a new restore cancels the current one (runRestore queues behind it).
      get().cancel();
      const scale = settings.model ? (settings.outputScale ?? null) : outputScale;
      return runOnWorker(source, model, scale);
    },

    cancel() {
      runAbort?.abort();
    },

    async download() {
      const { run, source, format, quality } = get();
      if (!run || run.phase !== 'done' || !source) return;
      set({ downloading: true, downloadError: null });
      try {
        const blob = await encodeResult(run.canvas, format, quality, source.metadata);
        saveBlob(blob, outputFileName(source.name, run.scale, format));
      } catch (error) {
        set({ downloadError: `The download failed: ${errorText(error)}` });
      } finally {
        set({ downloading: false });
      }
    },
  };
});

/** Phases in which the worker is busy with a run. */
export function isActive(phase: RunPhase | undefined): boolean {
  return (
    phase === 'starting' ||
    phase === 'loading-runtime' ||
    phase === 'loading-model' ||
    phase === 'restoring'
  );
}
