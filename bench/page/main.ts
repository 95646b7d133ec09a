/**
 * The bench page: runs our app's worker (on the hand-written kernels or onnxruntime-web), the
 * engine pipeline in a bench worker with session.run timed, raw untiled sessions and UpscalerJS
 * side by side in one Chromium, and exposes them to the Node driver (bench/driver/main.ts) as
 * `window.gendrBench`.
 */
import { RestoreClient } from '../../src/lib/restore-client.ts';
import { fetchModelIndex } from '../../src/lib/model-index.ts';
import { BenchWorker } from './bench-worker-client.ts';
import { imageBitmap } from './images.ts';
import { runPeer } from './peer.ts';
import { createImage, pasteRect, type Rect, type RgbaImage } from '../../engine/image.ts';
import type { BuiltinModelManifest } from '../../engine/models/builtin-manifest.ts';
import type {
  AppRequest,
  AppRun,
  BenchApi,
  OverheadPair,
  OverheadRequest,
  PageInfo,
  PipelineRequest,
  PipelineRun,
  RawRequest,
} from './protocol.ts';

let appClient: RestoreClient | null = null;

/** The page keeps the restored image, as the app does: tiles are copied into one RGBA buffer. */
class OutputCanvas {
  private image: RgbaImage | null = null;
  paste(rect: Rect, tile: Uint8ClampedArray, width: number, height: number) {
    if (this.image?.width !== width || this.image.height !== height)
      this.image = createImage(width, height);
    pasteRect(this.image, rect, tile);
  }
}

const output = new OutputCanvas();

async function info(): Promise<PageInfo> {
  let webgpuAdapter: string | null = null;
  type AdapterInfo = { vendor?: string; architecture?: string; description?: string };
  const gpu = (
    navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: AdapterInfo } | null> } }
  ).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (adapter) {
    const i = adapter.info ?? {};
    webgpuAdapter =
      [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter';
  }
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    webgpuAdapter,
  };
}

/** One restore through the app's worker, timed as the page sees it. */
async function appOnce(
  client: RestoreClient,
  manifest: BuiltinModelManifest,
  request: AppRequest,
): Promise<AppRun> {
  const image = await imageBitmap(request.image);
  const outW = image.width * manifest.scale;
  const outH = image.height * manifest.scale;
  const notices: string[] = [];
  let firstTile = 0;
  let tiles = 0;
  const start = performance.now();
  const result = await client.restore(
    {
      image,
      model: { kind: 'builtin', manifest },
      backend: 'wasm',
      cpuEngine: request.cpuEngine,
      tileSize: request.tileSize,
    },
    {
      stage: () => undefined,
      notice: (message) => {
        notices.push(message);
        console.warn(`notice: ${message}`);
      },
      restart: () => undefined,
      progress: () => undefined,
      tile: (tile) => {
        if (tiles++ === 0) firstTile = performance.now() - start;
        output.paste(tile.rect, tile.data, outW, outH);
      },
    },
  );
  const wallMs = performance.now() - start;
  if (result.backend !== 'wasm' || result.cpuEngine !== request.cpuEngine) {
    throw new Error(
      `asked the app's worker for wasm/${request.cpuEngine}, it ran ${result.backend}/${String(result.cpuEngine)}` +
        (notices.length ? `: ${notices.join(' ')}` : ''),
    );
  }
  return {
    wallMs,
    firstTileMs: firstTile,
    tiles,
    backend: result.backend,
    cpuEngine: result.cpuEngine,
    threads: result.threads,
    runMs: result.runMs,
    inferenceMs: result.inferenceMs,
    totalMs: result.totalMs,
  };
}

async function appSession(request: AppRequest) {
  const index = await fetchModelIndex();
  const manifest = index.models.find((m) => m.id === request.modelId);
  if (!manifest) throw new Error(`unknown model ${request.modelId}`);
  appClient ??= new RestoreClient();
  const client = appClient;
  return () => appOnce(client, manifest, request);
}

async function app(request: AppRequest): Promise<AppRun[]> {
  const once = await appSession(request);
  // The first call loads the runtime and the model: it is the warm-up.
  await once();
  const runs: AppRun[] = [];
  for (let i = 0; i < request.runs; i++) runs.push(await once());
  return runs;
}

/** One run of the engine pipeline in a loaded bench worker. */
async function pipelineOnce(worker: BenchWorker, request: PipelineRequest): Promise<PipelineRun> {
  const image = await imageBitmap(request.image);
  const outW = image.width * request.scale;
  const outH = image.height * request.scale;
  let firstTile = 0;
  let tiles = 0;
  const start = performance.now();
  worker.onTile = (tile) => {
    if (tiles++ === 0) firstTile = performance.now() - start;
    output.paste(tile.rect, tile.data, outW, outH);
  };
  const done = await worker.pipeline({
    kind: 'pipeline',
    image,
    scale: request.scale,
    inputRange: request.inputRange,
    overlap: request.overlap,
    tileSize: request.tileSize,
  });
  return {
    wallMs: performance.now() - start,
    inferenceMs: done.run.inferenceMs,
    firstTileMs: firstTile,
    tiles: done.run.tiles,
  };
}

async function benchWorkerFor(request: PipelineRequest): Promise<BenchWorker> {
  const worker = new BenchWorker();
  await worker.init(request.modelUrl, request.threads, request.session, request.kernels);
  return worker;
}

async function pipeline(request: PipelineRequest): Promise<PipelineRun[]> {
  const worker = await benchWorkerFor(request);
  try {
    await pipelineOnce(worker, request);
    const runs: PipelineRun[] = [];
    for (let i = 0; i < request.runs; i++) runs.push(await pipelineOnce(worker, request));
    return runs;
  } finally {
    worker.terminate();
  }
}

/**
 * The app's worker and the bench worker's pipeline on the same job, one warm-up each, then run in
 * pairs that alternate which goes first, so that both see the same state of the machine.
 */
async function overhead(request: OverheadRequest): Promise<OverheadPair[]> {
  const appRun = await appSession(request.app);
  // The bench worker runs as many threads as the app's worker did (it uses every core).
  const warm = await appRun();
  const job = { ...request.pipeline, threads: warm.threads };
  const worker = await benchWorkerFor(job);
  try {
    await pipelineOnce(worker, job);
    const pairs: OverheadPair[] = [];
    for (let i = 0; i < request.runs; i++) {
      if (i % 2 === 0) {
        const app = await appRun();
        pairs.push({ app, pipeline: await pipelineOnce(worker, job) });
      } else {
        const pipelineRun = await pipelineOnce(worker, job);
        pairs.push({ app: await appRun(), pipeline: pipelineRun });
      }
    }
    return pairs;
  } finally {
    worker.terminate();
  }
}

/** Rows [y0, y1) of band `i` of `n` over `height`, widened by `overlap` rows of context. */
function band(i: number, n: number, height: number, overlap: number): [number, number] {
  const y0 = Math.round((i * height) / n);
  const y1 = Math.round(((i + 1) * height) / n);
  return [Math.max(0, y0 - overlap), Math.min(height, y1 + overlap)];
}

async function raw(request: RawRequest): Promise<number[]> {
  const n = request.workers ?? 1;
  const workers = Array.from({ length: n }, () => new BenchWorker());
  try {
    await Promise.all(
      workers.map((w) =>
        w.init(request.modelUrl, request.threads, request.session, request.kernels),
      ),
    );
    const times: number[] = [];
    for (let i = 0; i <= request.runs; i++) {
      const start = performance.now();
      await Promise.all(
        workers.map((w, k) => {
          const [y0, y1] = band(k, n, request.size, n > 1 ? (request.overlap ?? 0) : 0);
          return w.raw(request.size, y1 - y0, request.rangeMax);
        }),
      );
      if (i > 0) times.push(performance.now() - start);
    }
    return times;
  } finally {
    for (const w of workers) w.terminate();
  }
}

const api: BenchApi = { info, app, pipeline, overhead, raw, peer: runPeer };
(window as unknown as { gendrBench: BenchApi }).gendrBench = api;
document.body.dataset.ready = 'true';
