/**
 * The page's one way to restore an image: the app, the embed and the batch queue all call
 * `runRestore`. Runs are queued (the worker takes one at a time), an AbortSignal cancels a
 * queued or running job, and the result comes back as a promise; tiles, progress, stages and
 * notices come as callbacks while it runs.
 */
import type { ModelDescriptor } from '../../workers/contract/model.ts';
import type {
  BackendName,
  BackendPreference,
  CpuEngine,
  GpuPrecision,
  RestoreResult,
  RestoreStage,
  TileMessage,
} from '../../workers/contract/restore-protocol.ts';
import type { TestFaults } from '../../workers/contract/test-faults.ts';
import { restoreClient } from './restore-client.ts';

export interface RestoreJobOptions {
  backend?: BackendPreference;
  cpuEngine?: CpuEngine;
  /** Built-in models on WebGPU: fp16 where the adapter has shader-f16 ('auto'), or always fp32. */
  gpuPrecision?: GpuPrecision;
  /** Built-in models: input tile size in pixels (the engine's default when absent). */
  tileSize?: number;
  /** TEST-ONLY faults (src/features/faults/test-faults.ts). */
  faults?: TestFaults;
  signal?: AbortSignal;
  onTile?(tile: TileMessage): void;
  onProgress?(done: number, total: number): void;
  onStage?(stage: RestoreStage, backend: BackendName | null): void;
  onNotice?(message: string): void;
  /** The output starts over on another backend or with smaller tiles: clear what was painted. */
  onRestart?(backend: BackendName): void;
}

function abortError(): Error {
  return Object.assign(new Error('The restore was cancelled.'), { name: 'AbortError' });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Settles when the last job queued so far has ended. */
let tail: Promise<unknown> = Promise.resolve();

/**
 * Restores `image` (transferred to the worker, closed there) with `model`. Rejects with an
 * AbortError when `signal` aborts, and with the worker's error otherwise.
 */
export function runRestore(
  model: ModelDescriptor,
  image: ImageBitmap,
  options: RestoreJobOptions = {},
): Promise<RestoreResult> {
  const previous = tail;
  const job = previous
    .catch(() => undefined)
    .then(async () => {
      const { signal } = options;
      if (signal?.aborted) {
        image.close();
        throw abortError();
      }
      const client = restoreClient();
      const onAbort = () => void client.cancel().catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await client.restore(
          {
            image,
            model,
            backend: options.backend ?? 'auto',
            cpuEngine: options.cpuEngine,
            gpuPrecision: options.gpuPrecision,
            tileSize: options.tileSize,
            faults: options.faults,
          },
          {
            stage: (stage, backend) => options.onStage?.(stage, backend),
            notice: (message) => options.onNotice?.(message),
            restart: (backend) => options.onRestart?.(backend),
            progress: (done, total) => options.onProgress?.(done, total),
            tile: (tile) => options.onTile?.(tile),
          },
        );
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) throw abortError();
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
  tail = job.catch(() => undefined);
  return job;
}
