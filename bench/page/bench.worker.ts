/**
 * The bench worker: onnxruntime-web (WASM build, as the app's worker loads it) with a chosen thread
 * count and session options, or the hand-written kernels (the committed builds the app's worker
 * loads, relaxed SIMD where the browser has it), running either one untiled session.run (raw
 * runtime speed) or the engine's tiled pipeline (engine/upscale.ts, upscaleToTiles as the app's
 * worker runs it) with every session.run timed, streaming tiles to the page the way the app's
 * worker does.
 */
import kernelsRelaxedUrl from '../../engine/kernels/wasm/kernels-relaxed.wasm?url';
import kernelsSimdUrl from '../../engine/kernels/wasm/kernels-simd.wasm?url';
import { createKernelSession, plainTensors } from '../../engine/kernels/kernel-session.ts';
import {
  hasRelaxedSimd,
  spawnBrowserHelper,
} from '../../workers/restore/kernels/browser-helpers.ts';
import type { EngineSession, TensorFactory } from '../../engine/session.ts';
import { upscaleToTiles } from '../../engine/upscale.ts';
import { createOrtWebRuntime } from '../../workers/runtime/ort-web.ts';
import { loadOrt } from '../../workers/restore/ort-loader.ts';
import { bitmapToRgba } from '../../workers/restore/pixels.ts';
import { timedSession, type RunClock } from '../../workers/restore/timed-session.ts';
import type { BenchWorkerMessage, BenchWorkerRequest } from './protocol.ts';

let session: EngineSession | null = null;
let runtime: TensorFactory | null = null;
/** Time inside session.run, by the same wrapper as the app's worker uses. */
const clock: RunClock = { ms: 0 };

const post = (message: BenchWorkerMessage, transfer: Transferable[] = []) =>
  self.postMessage(message, { transfer });

async function handle(message: BenchWorkerRequest): Promise<void> {
  if (message.kind === 'init') {
    const bytes = new Uint8Array(await (await fetch(message.modelUrl)).arrayBuffer());
    let inner: EngineSession;
    let threads = message.threads;
    if (message.kernels) {
      const variant = message.kernels === true ? {} : message.kernels;
      const relaxed = variant.flavour ? variant.flavour === 'relaxed' : hasRelaxedSimd();
      const url = relaxed ? kernelsRelaxedUrl : kernelsSimdUrl;
      const module = await WebAssembly.compile(await (await fetch(url)).arrayBuffer());
      inner = await createKernelSession(bytes, module, {
        threads: message.threads,
        spawnHelper: spawnBrowserHelper,
        winograd: variant.winograd,
      });
      runtime = plainTensors;
    } else {
      const ort = await loadOrt('wasm');
      ort.env.wasm.numThreads = message.threads;
      const ortRuntime = createOrtWebRuntime(ort, 'wasm', { sessionOptions: message.session });
      runtime = ortRuntime;
      inner = await ortRuntime.createSession(bytes);
      threads = ort.env.wasm.numThreads ?? 1;
    }
    session = timedSession(inner, clock);
    post({ kind: 'ready', threads });
    return;
  }
  if (!session || !runtime) throw new Error('bench worker: init first');
  if (message.kind === 'raw') {
    const { width, height, rangeMax } = message;
    const data = new Float32Array(3 * width * height);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) * (rangeMax / 255);
    const input = runtime.tensor('float32', data, [1, 3, height, width]);
    const start = performance.now();
    const outputs = await session.run({ [session.inputNames[0]]: input });
    const ms = performance.now() - start;
    for (const t of Object.values(outputs)) t.dispose?.();
    post({ kind: 'raw-done', ms });
    return;
  }
  const image = bitmapToRgba(message.image);
  clock.ms = 0;
  let tiles = 0;
  const start = performance.now();
  const output = await upscaleToTiles(session, runtime, image, {
    scale: message.scale,
    inputRange: message.inputRange,
    overlap: message.overlap,
    tileSize: message.tileSize,
    onTile: (update) => {
      tiles++;
      // Each block owns its buffer, as in the app's worker: transferred, not copied.
      post({ kind: 'tile', rect: update.rect, data: update.data }, [update.data.buffer]);
    },
  });
  const wallMs = performance.now() - start;
  post({
    kind: 'pipeline-done',
    run: { wallMs, inferenceMs: clock.ms, tiles, width: output.width, height: output.height },
  });
}

self.onmessage = (event: MessageEvent<BenchWorkerRequest>) => {
  handle(event.data).catch((error: unknown) =>
    post({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
};
