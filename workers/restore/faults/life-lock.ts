/**
 * The worker holds a Web Lock named after itself for as long as it lives. The page asks for the
 * same lock (src/features/faults/worker-life.ts) and is granted it only when the worker is gone,
 * crashed or killed: a crash is noticed at once, with no polling.
 */
import { LIFE_LOCK_PREFIX } from '../../contract/worker-life.ts';

export function holdLifeLock(): void {
  const name = (self as unknown as { name?: string }).name;
  if (!name || !navigator.locks) return;
  void navigator.locks.request(
    `${LIFE_LOCK_PREFIX}${name}`,
    () => new Promise<never>(() => undefined),
  );
}
