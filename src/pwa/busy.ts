/**
 * Whether the app is in the middle of work that a reload would throw away (a restore, in the app
 * or for an embedding page). Features register a check; the update prompt asks before reloading.
 */

const checks = new Set<() => boolean>();

export function registerBusyCheck(check: () => boolean): () => void {
  checks.add(check);
  return () => checks.delete(check);
}

export function isBusy(): boolean {
  for (const check of checks) if (check()) return true;
  return false;
}

/** Resolves once nothing is busy (polled: restores last seconds, not milliseconds). */
export function whenIdle(pollMs = 250): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (isBusy() ? setTimeout(poll, pollMs) : resolve());
    poll();
  });
}
