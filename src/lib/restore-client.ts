/**
 * The page's handle on the restore worker (workers/restore/restore.worker.ts), through Comlink.
 * The source bitmap is transferred to the worker; tiles come back transferred.
 */
import * as Comlink from 'comlink';
import type {
  RestoreApi,
  RestoreEvents,
  RestoreRequest,
  RestoreResult,
  WorkerInfo,
} from '../../workers/contract/restore-protocol.ts';
import { whenWorkerDies, WorkerCrashError } from '../features/faults/worker-life.ts';

const CRASH_MESSAGE =
  'The restore worker stopped unexpectedly (it crashed or ran out of memory); a new one was started.';

export class RestoreClient {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<RestoreApi>;
  private readonly life = new AbortController();
  /** Resolves when the worker has died (src/features/faults/worker-life.ts). */
  private readonly died: Promise<void>;
  private dead = false;

  constructor() {
    // A unique name: the worker holds a Web Lock named after it while it lives.
    const name = `gendr-restore-${Math.random().toString(36).slice(2, 10)}`;
    this.worker = new Worker(new URL('../../workers/restore/restore.worker.ts', import.meta.url), {
      type: 'module',
      name,
    });
    this.api = Comlink.wrap<RestoreApi>(this.worker);
    this.died = whenWorkerDies(name, this.life.signal).then(() => {
      this.dead = true;
      this.worker.terminate();
      // The next restoreClient() call starts a fresh worker.
      if (client === this) client = null;
    });
  }

  /** The call, or a WorkerCrashError as soon as the worker dies. */
  private guard<T>(call: () => Promise<T>): Promise<T> {
    const crashed = this.died.then((): never => {
      throw new WorkerCrashError(CRASH_MESSAGE);
    });
    if (this.dead) return crashed;
    return Promise.race([call(), crashed]);
  }

  info(): Promise<WorkerInfo> {
    return this.guard(() => this.api.info());
  }

  restore(request: RestoreRequest, events: RestoreEvents): Promise<RestoreResult> {
    return this.guard(() =>
      this.api.restore(Comlink.transfer(request, [request.image]), Comlink.proxy(events)),
    );
  }

  cancel(): Promise<void> {
    return this.dead ? Promise.resolve() : this.guard(() => this.api.cancel());
  }
}

let client: RestoreClient | null = null;

/** The app's one worker, started on first use. */
export function restoreClient(): RestoreClient {
  client ??= new RestoreClient();
  return client;
}
