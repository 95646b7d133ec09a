/**
 * "Make all models available offline": fetches every built-in model and the WebGPU runtime into
 * the service worker's runtime cache (MODEL_CACHE in pwa-options.ts), skipping what is cached
 * already, with progress in bytes. Without that, a model is cached the first time it is used.
 */
import { fetchModelIndex, modelsBaseUrl } from '../lib/model-index.ts';
import { MODEL_CACHE } from './pwa-options.ts';

const RUNTIME_FILES = [
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

export interface OfflineProgress {
  filesDone: number;
  files: number;
  bytesDone: number;
  /** Known sizes (the models' manifests); runtime files add theirs as they arrive. */
  bytesTotal: number;
}

interface Entry {
  url: string;
  bytes: number;
}

async function entries(): Promise<Entry[]> {
  const index = await fetchModelIndex();
  const base = modelsBaseUrl();
  const ort = new URL(`${import.meta.env.BASE_URL}ort/`, window.location.href);
  return [
    ...index.models.map((m) => ({ url: new URL(`${m.id}/${m.file}`, base).href, bytes: m.bytes })),
    ...RUNTIME_FILES.map((name) => ({ url: new URL(name, ort).href, bytes: 0 })),
  ];
}

/** True where this browser has the Cache Storage the service worker uses. */
export function canCacheModels(): boolean {
  return typeof caches !== 'undefined';
}

export async function makeAllModelsOffline(
  onProgress: (progress: OfflineProgress) => void,
  signal?: AbortSignal,
): Promise<OfflineProgress> {
  const list = await entries();
  const cache = await caches.open(MODEL_CACHE);
  const progress: OfflineProgress = {
    filesDone: 0,
    files: list.length,
    bytesDone: 0,
    bytesTotal: list.reduce((n, e) => n + e.bytes, 0),
  };
  onProgress({ ...progress });
  for (const entry of list) {
    signal?.throwIfAborted();
    const cached =
      (await cache.match(entry.url)) ??
      // Precached files are stored under a revisioned URL.
      (await caches.match(entry.url, { ignoreSearch: true }));
    if (!cached) {
      const response = await fetch(entry.url, { signal });
      if (!response.ok)
        throw new Error(`${entry.url} could not be downloaded (HTTP ${response.status}).`);
      const size = Number(response.headers.get('content-length')) || entry.bytes;
      if (!entry.bytes) progress.bytesTotal += size;
      await cache.put(entry.url, response);
      progress.bytesDone += size;
    } else {
      if (!entry.bytes) progress.bytesTotal += Number(cached.headers.get('content-length')) || 0;
      progress.bytesDone += entry.bytes || Number(cached.headers.get('content-length')) || 0;
    }
    progress.filesDone++;
    onProgress({ ...progress });
  }
  return progress;
}

/**
 * Keeps a built-in model that just ran for offline use. The service worker caches model files
 * the restore worker fetches, but a worker started before the service worker took control of the
 * page (the first visit) fetches past it; this puts the file in the same cache from the page,
 * mostly from the HTTP cache. Failures only mean the model is not kept.
 */
export async function keepModelOffline(id: string, file: string): Promise<void> {
  if (!canCacheModels()) return;
  try {
    const url = new URL(`${id}/${file}`, modelsBaseUrl()).href;
    const cache = await caches.open(MODEL_CACHE);
    if (await cache.match(url)) return;
    if (await caches.match(url, { ignoreSearch: true })) return;
    await cache.add(url);
  } catch {
    // Storage full or offline: the model will be cached when it is next used.
  }
}
