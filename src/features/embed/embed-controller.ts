/**
 * The embedded app's side of the postMessage API (see embed-protocol.ts, docs/embed.md).
 *
 * - Only allowed origins are heard (embed-config.ts); anything else is dropped without a reply
 *   and starts no work. Replies go to the asking window, addressed to its origin, never '*'.
 * - Every message is validated (embed-schema.ts), with size limits, before anything is done.
 * - Requests queue (at most MAX_QUEUE) and run one at a time on the app's restore worker; tiles
 *   stream into the visible canvas and, when the page asks, to the page as rectangles or pixels.
 */
import { errorText } from '../../../workers/contract/error-text.ts';
import type { BackendName, TileMessage } from '../../../workers/contract/restore-protocol.ts';
import { BITMAP_OPTIONS, decodeImage, ImageTooLargeError } from '../../lib/decode-image.ts';
import { encodeCanvas } from '../../lib/encode-image.ts';
import {
  builtinModelEntry,
  fetchModelIndex,
  packModelEntry,
  type AppModel,
} from '../../lib/model-index.ts';
import { restoreClient } from '../../lib/restore-client.ts';
import { runRestore } from '../../lib/run-restore.ts';
import { makeCanvas, clearCanvas, paintTile } from '../../lib/tile-canvas.ts';
import { packStore } from '../model-manager/pack-store-client.ts';
import { registerBusyCheck } from '../../pwa/busy.ts';
import { outputSizeProblem } from '../../state/limits.ts';
import {
  isAllowedOrigin,
  isAllowedPack,
  loadEmbedConfig,
  type EmbedConfig,
} from './embed-config.ts';
import {
  EMBED_PROTOCOL_VERSION,
  type EmbedErrorCode,
  type EmbedId,
  type EmbedRequest,
  type EmbedResponse,
} from './embed-protocol.ts';
import { parseEmbedRequest } from './embed-schema.ts';
import { updateJob, useEmbedStore } from './embed-store.ts';

export const MAX_QUEUE = 8;

type RestoreRequestMessage = Extract<EmbedRequest, { type: 'restore' }>;

interface Job {
  id: EmbedId;
  origin: string;
  reply: (message: EmbedResponse, transfer?: Transferable[]) => void;
  request: RestoreRequestMessage;
  model: AppModel;
  received: number;
  /** Aborts the job's restore (queued or running). */
  abort: AbortController;
}

class EmbedError extends Error {
  constructor(
    readonly code: EmbedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function replyTo(event: MessageEvent): (message: EmbedResponse, transfer?: Transferable[]) => void {
  const target = event.source as Window | null;
  return (message, transfer = []) => {
    try {
      target?.postMessage(message, { targetOrigin: event.origin, transfer });
    } catch {
      // The page went away or refused the transfer: nothing to tell.
    }
  };
}

/** The origin of the page that embeds this one, when the browser tells (ancestorOrigins, referrer). */
function parentOrigin(): string | null {
  if (window.parent === window) return null;
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0];
  try {
    return document.referrer ? new URL(document.referrer).origin : null;
  } catch {
    return null;
  }
}

export class EmbedController {
  private config: EmbedConfig = { allowedOrigins: new Set(), allowedPacks: new Set() };
  private models: AppModel[] = [];
  private defaultModel = '';
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private ready: Promise<void> | null = null;

  start(): void {
    window.addEventListener('message', (event) => void this.onMessage(event));
    registerBusyCheck(() => this.running !== null || this.queue.length > 0);
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    try {
      const [config, index, info] = await Promise.all([
        loadEmbedConfig(),
        fetchModelIndex(),
        restoreClient()
          .info()
          .catch(() => null),
      ]);
      this.config = config;
      this.models = [...index.models.map(builtinModelEntry), ...(await this.offeredPacks(config))];
      this.defaultModel = index.default;
      useEmbedStore.setState({
        listening: true,
        crossOriginIsolated: info?.crossOriginIsolated ?? self.crossOriginIsolated,
        threads: info?.wasmThreads ?? 1,
      });
      const parent = parentOrigin();
      if (parent && this.allowed(parent)) {
        window.parent.postMessage(this.readyMessage(), { targetOrigin: parent });
      }
    } catch (error) {
      useEmbedStore.setState({ startError: `The app could not start: ${errorText(error)}` });
    }
  }

  /** Installed packs this deployment offers to embedding pages (embed-config.ts). */
  private async offeredPacks(config: EmbedConfig): Promise<AppModel[]> {
    if (config.allowedPacks.size === 0) return [];
    const packs = await packStore()
      .list()
      .catch(() => []);
    return packs.filter((p) => isAllowedPack(p.id, config)).map(packModelEntry);
  }

  private allowed(origin: string): boolean {
    return isAllowedOrigin(origin, this.config, location.origin);
  }

  private readyMessage(): EmbedResponse {
    const { crossOriginIsolated, threads } = useEmbedStore.getState();
    return {
      type: 'ready',
      protocol: EMBED_PROTOCOL_VERSION,
      models: this.models.map((m) => ({ id: m.id, name: m.name, scale: m.scale })),
      defaultModel: this.defaultModel,
      crossOriginIsolated,
      threads,
    };
  }

  private async onMessage(event: MessageEvent): Promise<void> {
    await this.ready;
    if (event.source === window || !event.source) return;
    if (!this.allowed(event.origin)) {
      useEmbedStore.setState((s) => ({ ignored: s.ignored + 1 }));
      return;
    }
    const parsed = parseEmbedRequest(event.data);
    if (!parsed) return;
    const reply = replyTo(event);
    if (!parsed.ok) {
      reply({ type: 'error', id: parsed.id, code: parsed.code, message: parsed.message });
      return;
    }
    const request = parsed.request;
    useEmbedStore.setState((s) => ({ handled: s.handled + 1 }));
    if (request.type === 'ping') reply(this.readyMessage());
    else if (request.type === 'cancel') this.cancel(request.id, event.origin);
    else this.enqueue(request, event.origin, reply);
  }

  private enqueue(request: RestoreRequestMessage, origin: string, reply: Job['reply']): void {
    const fail = (code: EmbedErrorCode, message: string) =>
      reply({ type: 'error', id: request.id, code, message });
    const modelId = request.options?.model ?? this.defaultModel;
    const model = this.models.find((m) => m.id === modelId);
    if (!model) {
      fail(
        'unknown-model',
        `There is no model “${modelId}”. Models: ${this.models.map((m) => m.id).join(', ')}.`,
      );
      return;
    }
    if (this.queue.length >= MAX_QUEUE) {
      fail('busy', `${MAX_QUEUE} restores are already waiting; send this one later.`);
      return;
    }
    this.queue.push({
      id: request.id,
      origin,
      reply,
      request,
      model,
      received: performance.now(),
      abort: new AbortController(),
    });
    useEmbedStore.setState({ queued: this.queue.length });
    reply({ type: 'progress', id: request.id, stage: 'queued', done: 0, total: 0 });
    void this.pump();
  }

  /** Cancels a queued or running request of this origin (unknown ids are ignored). */
  private cancel(id: EmbedId, origin: string): void {
    const queued = this.queue.findIndex((j) => j.id === id && j.origin === origin);
    if (queued >= 0) {
      const [job] = this.queue.splice(queued, 1);
      useEmbedStore.setState({ queued: this.queue.length });
      job.reply({ type: 'error', id, code: 'cancelled', message: 'The restore was cancelled.' });
      return;
    }
    if (this.running && this.running.id === id && this.running.origin === origin) {
      this.running.abort.abort();
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      useEmbedStore.setState({ queued: this.queue.length });
      this.running = job;
      try {
        await this.run(job);
      } catch (error) {
        const cancelled = job.abort.signal.aborted;
        const code: EmbedErrorCode = cancelled
          ? 'cancelled'
          : error instanceof EmbedError
            ? error.code
            : 'restore-failed';
        const message = cancelled ? 'The restore was cancelled.' : errorText(error);
        updateJob(job.id, { stage: cancelled ? 'cancelled' : 'failed', error: message });
        job.reply({ type: 'error', id: job.id, code, message });
      } finally {
        this.running = null;
      }
    }
  }

  private async decode(job: Job): Promise<ImageBitmap> {
    const { image } = job.request;
    const scale = job.model.scale;
    if (image instanceof ImageBitmap) {
      const problem = outputSizeProblem(image.width, image.height, scale);
      if (problem) throw new EmbedError('too-large', problem);
      return createImageBitmap(image, BITMAP_OPTIONS);
    }
    const blob = image instanceof Blob ? image : new Blob([image]);
    try {
      const decoded = await decodeImage(blob, 'the image', { scale });
      return decoded.bitmap;
    } catch (error) {
      throw new EmbedError(
        error instanceof ImageTooLargeError ? 'too-large' : 'unsupported-image',
        errorText(error),
      );
    }
  }

  private async run(job: Job): Promise<void> {
    const { id, model, reply } = job;
    const options = job.request.options ?? {};
    const tiles = options.tiles ?? 'none';
    useEmbedStore.setState({
      job: {
        id,
        origin: job.origin,
        stage: 'decoding',
        done: 0,
        total: 0,
        width: 0,
        height: 0,
        backend: null,
        error: null,
        canvas: null,
      },
    });
    reply({ type: 'progress', id, stage: 'decoding', done: 0, total: 0 });
    const bitmap = await this.decode(job);
    const width = bitmap.width * model.scale;
    const height = bitmap.height * model.scale;
    const problem = outputSizeProblem(bitmap.width, bitmap.height, model.scale);
    if (problem) {
      bitmap.close();
      throw new EmbedError('too-large', problem);
    }
    const canvas = makeCanvas(width, height);
    updateJob(id, { canvas, width, height });
    if (job.abort.signal.aborted) {
      bitmap.close();
      throw new EmbedError('cancelled', 'The restore was cancelled.');
    }

    let done = 0;
    let total = 0;
    let stage: 'loading-runtime' | 'loading-model' | 'restoring' = 'loading-runtime';
    const progress = (
      extra: Partial<Extract<EmbedResponse, { type: 'progress' }>> = {},
      transfer: Transferable[] = [],
    ) => reply({ type: 'progress', id, stage, done, total, width, height, ...extra }, transfer);
    const paint = (tile: TileMessage) => {
      const { rect } = tile;
      const pixels = paintTile(canvas, tile);
      done = tile.done;
      total = tile.total;
      updateJob(id, { done, total });
      const box = { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
      // The canvas has its copy now: the tile's buffer moves on to the page.
      if (tiles === 'pixels') progress({ tile: box, pixels }, [pixels.data.buffer]);
      else if (tiles === 'rects') progress({ tile: box });
      else progress();
    };

    const result = await runRestore(model.descriptor, bitmap, {
      backend: options.backend ?? 'auto',
      signal: job.abort.signal,
      onStage: (next, name) => {
        stage = next;
        updateJob(id, { stage: next, backend: name ?? null });
        progress();
      },
      onRestart: (name) => {
        clearCanvas(canvas);
        done = 0;
        updateJob(id, { done: 0, backend: name });
      },
      onProgress: (d, t) => {
        done = d;
        total = t;
        updateJob(id, { done, total });
        progress();
      },
      onTile: paint,
    });
    const backend: BackendName = result.backend;
    const blob = await encodeCanvas(canvas, options.format ?? 'png', options.quality ?? 0.9);
    updateJob(id, { stage: 'done', backend });
    reply({
      type: 'result',
      id,
      image: blob,
      width,
      height,
      model: model.id,
      backend,
      threads: result.threads,
      cpuEngine: result.cpuEngine,
      ms: Math.round(performance.now() - job.received),
    });
  }
}

let controller: EmbedController | null = null;

/** Read-only counters for the end-to-end tests (like window.__gendr in the full app). */
function installEmbedTestHook(): void {
  const hook = {
    get ignored() {
      return useEmbedStore.getState().ignored;
    },
    get handled() {
      return useEmbedStore.getState().handled;
    },
    get stage() {
      return useEmbedStore.getState().job?.stage ?? null;
    },
    get listening() {
      return useEmbedStore.getState().listening;
    },
  };
  Object.defineProperty(window, '__gendrEmbed', { value: Object.freeze(hook), configurable: true });
}

export function startEmbed(): void {
  if (controller) return;
  installEmbedTestHook();
  controller = new EmbedController();
  controller.start();
}
