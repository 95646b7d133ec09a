/**
 * Each worker holds a Web Lock named `LIFE_LOCK_PREFIX + <its name>` while it lives
 * (workers/restore/faults/life-lock.ts); the page asks for the same lock and is granted it only
 * once the worker is gone (src/features/faults/worker-life.ts).
 */
export const LIFE_LOCK_PREFIX = 'gendr-worker-alive:';
