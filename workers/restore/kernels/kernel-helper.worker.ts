/** Browser helper thread of the kernel session (a module worker): see helper-protocol.ts. */
import { runHelperLoop, type HelperInit } from '../../../engine/kernels/helper-protocol.ts';

self.onmessage = (event: MessageEvent<HelperInit>) => {
  void runHelperLoop(event.data, () => self.postMessage('ready')).then(() => self.close());
};
