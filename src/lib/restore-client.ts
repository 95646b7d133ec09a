/**
 * The page's handle on the restore worker (workers/restore.worker.ts), through Comlink.
 * The source bitmap is transferred to the worker; tiles come back transferred.
 */
import * as Comlink from 'comlink';
import type {
  RestoreApi,
  RestoreEvents,
  RestoreRequest,
  RestoreResult,
  WorkerInfo,
} from '../../workers/worker/protocol.ts';

export class RestoreClient {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<RestoreApi>;

  constructor() {
    this.worker = new Worker(new URL('../../workers/restore.worker.ts', import.meta.url), {
      type: 'module',
      name: 'gendr-restore',
    });
    this.api = Comlink.wrap<RestoreApi>(this.worker);
  }

  info(): Promise<WorkerInfo> {
    return this.api.info();
  }

  restore(request: RestoreRequest, events: RestoreEvents): Promise<RestoreResult> {
    return this.api.restore(Comlink.transfer(request, [request.image]), Comlink.proxy(events));
  }

  cancel(): Promise<void> {
    return this.api.cancel();
  }
}

let client: RestoreClient | null = null;

/** The app's one worker, started on first use. */
export function restoreClient(): RestoreClient {
  client ??= new RestoreClient();
  return client;
}
