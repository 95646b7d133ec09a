/** A file in the batch queue, as shown and as stored in IndexedDB. */
import type { OutputFormat } from '../../lib/encode-image.ts';
import type { Size } from '../inputs/size-check.ts';

export type BatchStatus =
  | 'queued'
  | 'running'
  | 'done'
  | 'failed'
  | 'cancelled'
  /** Too large for this device: waits for the user to downscale or skip it. */
  | 'too-large'
  /** Was queued or running when the page was closed or reloaded: can be resumed. */
  | 'interrupted';

/** What an item is restored with, fixed when it is queued (a reload or a new pick keeps it). */
export interface BatchSettings {
  /** The app model's id (AppModel.id). */
  modelId: string;
  modelName: string;
  scale: number;
  format: OutputFormat;
  quality: number;
}

export interface BatchItem {
  id: string;
  /** Position in the queue. */
  order: number;
  name: string;
  /** The file itself, so that unfinished items can be resumed after a reload. */
  source: Blob;
  status: BatchStatus;
  /** Why it failed / was refused, in plain words. */
  error: string | null;
  /** Notices (first frame only, fallback to WASM, …). */
  notes: string[];
  /** Tiles done / total while running. */
  done: number;
  total: number;
  /** Decode at this size (the user's choice after a size refusal). */
  downscaleTo: Size | null;
  /** A small preview of the source (then of the result), PNG. */
  thumbnail: Blob | null;
  result: Blob | null;
  resultName: string | null;
  resultSize: Size | null;
  modelName: string | null;
  /** The settings it was queued with (null for items stored before settings were kept). */
  settings: BatchSettings | null;
  addedAt: number;
}

export function isUnfinished(status: BatchStatus): boolean {
  return status === 'queued' || status === 'running';
}
