/**
 * App state (zustand). Canvases live here as DOM elements made outside React: the worker's tiles
 * are painted straight into the output canvas, with no render per tile.
 */
import { create } from 'zustand';
import type {
  BackendName,
  BackendPreference,
  ColorFix,
  CpuEngine,
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
import { fetchModelIndex, modelUrl, type BuiltinModelManifest } from '../lib/model-index.ts';
import { restoreClient } from '../lib/restore-client.ts';
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
}

export interface AppState {
  models: BuiltinModelManifest[];
  modelsError: string | null;
  modelId: string | null;
  backend: BackendPreference;
  /** Built-in models on WASM: the fast kernels (default) or onnxruntime-web. */
  cpuEngine: CpuEngine;
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
  selectModel(id: string): void;
  setBackend(backend: BackendPreference): void;
  setCpuEngine(cpuEngine: CpuEngine): void;
  setColorFix(colorFix: ColorFix): void;
  setFormat(format: OutputFormat): void;
  setQuality(quality: number): void;
  openFile(file: Blob, name: string, options?: { downscaleTo?: Size }): Promise<void>;
  dismissSizeChoice(): void;
  restore(): Promise<void>;
  cancel(): void;
  download(): Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

let runSeq = 0;
/** Settles when the current run has ended (so a new one can start on the one worker). */
let runEnded: Promise<void> = Promise.resolve();
let openSeq = 0;
/** Set by cancel() for a run that has not reached the worker yet. */
let cancelRequested = false;

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

  const paintTile = (id: number, tile: TileMessage) => {
    const run = get().run;
    if (!run || run.id !== id) return;
    const context = run.canvas.getContext('2d');
    const { rect } = tile;
    context?.putImageData(
      new ImageData(tile.data as Uint8ClampedArray<ArrayBuffer>, rect.width, rect.height),
      rect.x,
      rect.y,
    );
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
    model: BuiltinModelManifest,
    backend: BackendPreference,
    cpuEngine: CpuEngine,
    colorFix: ColorFix,
  ) => {
    const id = ++runSeq;
    const width = source.width * model.scale;
    const height = source.height * model.scale;
    const sizeProblem = outputSizeProblem(source.width, source.height, model.scale);
    cancelRequested = false;
    set({
      downloadError: null,
      run: {
        id,
        modelId: model.id,
        modelName: model.name,
        scale: model.scale,
        phase: sizeProblem ? 'failed' : 'starting',
        backend: null,
        threads: null,
        cpuEngine: null,
        done: 0,
        total: 0,
        startedAt: performance.now(),
        restoringSince: null,
        finishedAt: null,
        runMs: null,
        width,
        height,
        canvas: makeCanvas(sizeProblem ? 1 : width, sizeProblem ? 1 : height),
        notices: [],
        error: sizeProblem,
        tileLog: [],
      },
    });
    if (sizeProblem) return;
    try {
      const image = await createImageBitmap(source.bitmap, BITMAP_OPTIONS);
      if (cancelRequested) {
        image.close();
        throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      }
      const result = await restoreClient().restore(
        {
          image,
          modelId: model.id,
          modelUrl: modelUrl(model),
          scale: model.scale,
          inputRange: model.inputRange,
          overlap: model.tileMargin,
          backend,
          cpuEngine,
          colorFix,
          faults: testFaultsFor(source.name),
        },
        {
          stage: (stage, backendName) =>
            updateRun(id, (r) => ({
              phase: stage,
              backend: backendName ?? r.backend,
              restoringSince: stage === 'restoring' ? performance.now() : r.restoringSince,
            })),
          notice: (message) => updateRun(id, (r) => ({ notices: [...r.notices, message] })),
          restart: (backendName) => {
            const current = get().run;
            if (current?.id === id) current.canvas.getContext('2d')?.clearRect(0, 0, width, height);
            updateRun(id, { backend: backendName, done: 0, tileLog: [] });
          },
          progress: (done, total) => updateRun(id, { done, total }),
          tile: (tile) => paintTile(id, tile),
        },
      );
      updateRun(id, {
        phase: 'done',
        backend: result.backend,
        threads: result.threads,
        cpuEngine: result.cpuEngine,
        runMs: result.runMs,
        finishedAt: performance.now(),
      });
    } catch (error) {
      const cancelled = error instanceof Error && error.name === 'AbortError';
      updateRun(id, {
        phase: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? null : `Restoring failed: ${errorText(error)}`,
        finishedAt: performance.now(),
      });
    }
  };

  return {
    models: [],
    modelsError: null,
    modelId: null,
    backend: 'auto',
    cpuEngine: 'kernels',
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
      void client
        .info()
        .then((info) => set({ worker: info }))
        .catch(() => undefined);
      try {
        const index = await fetchModelIndex();
        const fallback = index.models.find((m) => m.id === index.default) ?? index.models[0];
        set({ models: index.models, modelId: get().modelId ?? fallback.id, modelsError: null });
        // A photo opened before the list arrived has not been restored yet.
        if (get().source && !get().run) await get().restore();
      } catch (error) {
        set({ modelsError: errorText(error) });
      }
    },

    selectModel(id) {
      if (get().models.some((m) => m.id === id)) set({ modelId: id });
    },
    setBackend(backend) {
      set({ backend });
    },
    setCpuEngine(cpuEngine) {
      set({ cpuEngine });
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
        const scale = models.find((m) => m.id === modelId)?.scale ?? 4;
        decoded = await decodeImage(file, name, { scale, downscaleTo: options.downscaleTo });
      } catch (error) {
        if (seq !== openSeq) return;
        const message =
          error instanceof ImageDecodeError
            ? error.message
            : `“${name}” could not be opened: ${errorText(error)}`;
        const sizeChoice =
          error instanceof ImageTooLargeError
            ? { file, name, message, downscaleTo: error.downscaleTo }
            : null;
        set({ sourceError: sizeChoice ? null : message, sourceNote: null, sizeChoice });
        return;
      }
      if (seq !== openSeq) {
        decoded.bitmap.close();
        return;
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
      await get().restore();
    },

    dismissSizeChoice() {
      set({ sizeChoice: null });
    },

    async restore() {
      const { source, models, modelId, backend, cpuEngine, colorFix } = get();
      const model = models.find((m) => m.id === modelId);
      if (!source || !model) return;
      // One run at a time on the one worker: cancel the current one and queue behind it.
      const previous = runEnded;
      let finish!: () => void;
      runEnded = new Promise((resolve) => (finish = resolve));
      try {
        get().cancel();
        await previous;
        if (get().source !== source) return;
        await runOnWorker(source, model, backend, cpuEngine, colorFix);
      } finally {
        finish();
      }
    },

    cancel() {
      const run = get().run;
      if (!run || !isActive(run.phase)) return;
      cancelRequested = true;
      void restoreClient()
        .cancel()
        .catch(() => undefined);
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
