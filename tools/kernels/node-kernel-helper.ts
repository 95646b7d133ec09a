/** spawnHelper for the kernel session under Node: a worker_threads worker (its entry registers tsx). */
import { Worker } from 'node:worker_threads';
import type { SpawnHelper } from '../../engine/kernels/kernel-session.ts';

export const spawnNodeHelper: SpawnHelper = (init) => {
  // V8 flags (e.g. --experimental-wasm-relaxed-simd) are process-wide and not allowed per worker.
  const worker = new Worker(new URL('./node-kernel-helper.worker.mjs', import.meta.url), {
    execArgv: process.execArgv.filter((a) => !a.startsWith('--experimental-wasm')),
  });
  worker.on('error', (error) => console.error(`kernel helper thread failed: ${error.message}`));
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.postMessage(init);
  // Keep the process alive until the helper is up; afterwards it must not keep it alive.
  void ready.then(
    () => worker.unref(),
    () => undefined,
  );
  return { ready, terminate: () => void worker.terminate() };
};
