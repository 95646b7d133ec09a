/**
 * A small read-only window.__gendr for the end-to-end tests (and curious users): what the last
 * restore ran on and when its tiles arrived. It exposes no controls.
 */
import { useAppStore } from '../state/store.ts';

export interface GendrHook {
  readonly phase: string | null;
  readonly backend: string | null;
  readonly threads: number | null;
  /** 'kernels' or 'onnxruntime' for a finished WASM restore of a built-in model. */
  readonly cpuEngine: string | null;
  /** Tile updates painted in the current run, with their times (performance.now()). */
  readonly tileUpdates: number;
  readonly tileLog: readonly { done: number; total: number; at: number }[];
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly runMs: number | null;
  readonly crossOriginIsolatedWorker: boolean | null;
  readonly wasmThreads: number | null;
}

export function installTestHook(): void {
  const hook: GendrHook = {
    get phase() {
      return useAppStore.getState().run?.phase ?? null;
    },
    get backend() {
      return useAppStore.getState().run?.backend ?? null;
    },
    get threads() {
      return useAppStore.getState().run?.threads ?? null;
    },
    get cpuEngine() {
      return useAppStore.getState().run?.cpuEngine ?? null;
    },
    get tileUpdates() {
      return useAppStore.getState().run?.tileLog.length ?? 0;
    },
    get tileLog() {
      return [...(useAppStore.getState().run?.tileLog ?? [])];
    },
    get startedAt() {
      return useAppStore.getState().run?.startedAt ?? null;
    },
    get finishedAt() {
      return useAppStore.getState().run?.finishedAt ?? null;
    },
    get runMs() {
      return useAppStore.getState().run?.runMs ?? null;
    },
    get crossOriginIsolatedWorker() {
      return useAppStore.getState().worker?.crossOriginIsolated ?? null;
    },
    get wasmThreads() {
      return useAppStore.getState().worker?.wasmThreads ?? null;
    },
  };
  Object.defineProperty(window, '__gendr', { value: Object.freeze(hook), configurable: true });
}
