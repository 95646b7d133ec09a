// Node helper thread of the kernel session (worker_threads): registers tsx, then runs the
// TypeScript helper loop (engine/kernels/helper-protocol.ts).
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runHelperLoop } = await import('../../engine/kernels/helper-protocol.ts');
parentPort?.once('message', (init) => {
  void runHelperLoop(init, () => parentPort?.postMessage('ready')).then(() => process.exit(0));
});
