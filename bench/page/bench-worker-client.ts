/** The page's side of the bench worker: one worker per configuration, one request at a time. */
import type {
  BenchKernels,
  BenchWorkerMessage,
  BenchWorkerRequest,
  OrtSessionVariant,
} from './protocol.ts';

export class BenchWorker {
  private readonly worker = new Worker(new URL('./bench.worker.ts', import.meta.url), {
    type: 'module',
    name: 'gendr-bench',
  });
  onTile: ((message: Extract<BenchWorkerMessage, { kind: 'tile' }>) => void) | null = null;

  private request<K extends BenchWorkerMessage['kind']>(
    message: BenchWorkerRequest,
    done: K,
    transfer: Transferable[] = [],
  ): Promise<Extract<BenchWorkerMessage, { kind: K }>> {
    return new Promise((resolve, reject) => {
      this.worker.onmessage = (event: MessageEvent<BenchWorkerMessage>) => {
        const reply = event.data;
        if (reply.kind === 'tile') this.onTile?.(reply);
        else if (reply.kind === 'error') reject(new Error(reply.message));
        else if (reply.kind === done) resolve(reply as Extract<BenchWorkerMessage, { kind: K }>);
      };
      this.worker.onerror = (event) => reject(new Error(event.message || 'bench worker failed'));
      this.worker.postMessage(message, transfer);
    });
  }

  async init(
    modelUrl: string,
    threads: number,
    session?: OrtSessionVariant,
    kernels?: boolean | BenchKernels,
  ): Promise<number> {
    return (await this.request({ kind: 'init', modelUrl, threads, session, kernels }, 'ready'))
      .threads;
  }

  async raw(width: number, height: number, rangeMax: number): Promise<number> {
    return (await this.request({ kind: 'raw', width, height, rangeMax }, 'raw-done')).ms;
  }

  pipeline(message: Extract<BenchWorkerRequest, { kind: 'pipeline' }>) {
    return this.request(message, 'pipeline-done', [message.image]);
  }

  terminate(): void {
    this.worker.terminate();
  }
}
