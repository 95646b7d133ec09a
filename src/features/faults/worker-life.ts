/**
 * Notices when a worker dies (crash, out-of-memory kill, terminate) by asking for the Web Lock the
 * worker holds while it lives (workers/restore/faults/life-lock.ts): the request is granted only
 * once the worker is gone.
 */
import { LIFE_LOCK_PREFIX } from '../../../workers/contract/worker-life.ts';

/** How long to wait for a new worker to take its lock before giving up on watching it. */
const START_TIMEOUT_MS = 30_000;

/**
 * Resolves when the worker named `name` has died. Never resolves where Web Locks are missing, or if
 * the worker never took its lock.
 */
export function whenWorkerDies(name: string, stop: AbortSignal): Promise<void> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return new Promise(() => undefined);
  const lock = `${LIFE_LOCK_PREFIX}${name}`;
  return new Promise((resolve) => {
    const started = performance.now();
    const waitForHolder = async () => {
      while (!stop.aborted) {
        const state = await locks.query();
        if (state.held?.some((l) => l.name === lock)) break;
        if (performance.now() - started > START_TIMEOUT_MS) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (stop.aborted) return;
      locks
        .request(lock, { signal: stop }, () => {
          resolve();
        })
        .catch(() => undefined);
    };
    void waitForHolder();
  });
}

/** The worker stopped while restoring: the restore fails with this, and a new worker starts. */
export class WorkerCrashError extends Error {
  override readonly name = 'WorkerCrashError';
}
