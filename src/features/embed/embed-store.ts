/** What the embedded app shows: the current job's progress and its output canvas. */
import { create } from 'zustand';
import type { EmbedId, EmbedStage } from './embed-protocol.ts';

export interface EmbedJobView {
  id: EmbedId;
  origin: string;
  stage: EmbedStage | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  width: number;
  height: number;
  backend: 'webgpu' | 'wasm' | null;
  error: string | null;
  /** The output, painted tile by tile. */
  canvas: HTMLCanvasElement | null;
}

export interface EmbedState {
  /** Config and model list loaded; messages are being answered. */
  listening: boolean;
  crossOriginIsolated: boolean;
  threads: number;
  job: EmbedJobView | null;
  queued: number;
  /** Messages dropped because their origin is not allowed. */
  ignored: number;
  /** Valid requests acted on. */
  handled: number;
  startError: string | null;
}

export const useEmbedStore = create<EmbedState>()(() => ({
  listening: false,
  crossOriginIsolated: self.crossOriginIsolated,
  threads: 1,
  job: null,
  queued: 0,
  ignored: 0,
  handled: 0,
  startError: null,
}));

export function updateJob(id: EmbedId, patch: Partial<EmbedJobView>): void {
  useEmbedStore.setState((s) => (s.job?.id === id ? { job: { ...s.job, ...patch } } : {}));
}
