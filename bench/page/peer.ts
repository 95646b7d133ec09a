/**
 * The peer: UpscalerJS 1.0 with TensorFlow.js, on the same ESRGAN weights (the npm packages our
 * build step converts), loaded from this server (never a CDN). The tfjs backend is chosen once per
 * page load: the driver reloads the page between backends and thread counts.
 */
import type * as Tf from '@tensorflow/tfjs';
import { imageElement } from './images.ts';
import type { PeerRequest, PeerRun } from './protocol.ts';

type ModelDefinitionModule = { default: object };

const DEFINITIONS: Record<string, Record<number, () => Promise<ModelDefinitionModule>>> = {
  'esrgan-slim': {
    2: () => import('@upscalerjs/esrgan-slim/2x'),
    4: () => import('@upscalerjs/esrgan-slim/4x'),
  },
  'esrgan-medium': {
    2: () => import('@upscalerjs/esrgan-medium/2x'),
    4: () => import('@upscalerjs/esrgan-medium/4x'),
  },
  'esrgan-thick': {
    2: () => import('@upscalerjs/esrgan-thick/2x'),
    4: () => import('@upscalerjs/esrgan-thick/4x'),
  },
};

let backendChosen: { backend: string; threads: number | null } | null = null;

async function chooseBackend(
  tf: typeof Tf,
  request: PeerRequest,
): Promise<{ backend: string; threads: number | null }> {
  if (backendChosen) {
    if (request.backend === 'wasm' && backendChosen.backend !== 'wasm') {
      throw new Error('reload the page to switch UpscalerJS to the wasm backend');
    }
    return backendChosen;
  }
  let threads: number | null = null;
  if (request.backend === 'wasm') {
    if (request.threads) {
      // tfjs-backend-wasm sizes its pthread pool to hardwareConcurrency / 2 when it loads and cannot
      // grow it later, so forcing N threads means announcing 2N cores before the import.
      const cores = request.threads * 2;
      Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => cores });
    }
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(new URL('/peer/tfjs-backend-wasm/', location.href).href);
    if (request.threads) wasm.setThreadsCount(request.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
    await tf.ready();
    threads = wasm.getThreadsCount();
    console.log(
      `tfjs wasm: simd ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, ` +
        `threads support ${String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))}, threads ${threads}`,
    );
  } else {
    await tf.ready();
  }
  backendChosen = { backend: tf.getBackend(), threads };
  return backendChosen;
}

export async function runPeer(request: PeerRequest): Promise<PeerRun[]> {
  const tf = await import('@tensorflow/tfjs');
  const { backend, threads } = await chooseBackend(tf, request);
  const { default: Upscaler } = await import('upscaler');
  const load = DEFINITIONS[request.family]?.[request.scale];
  if (!load) throw new Error(`no UpscalerJS model for ${request.family} x${request.scale}`);
  const definition = (await load()).default;
  const upscaler = new Upscaler({
    model: {
      ...definition,
      path: new URL(`/peer/${request.family}/x${request.scale}/model.json`, location.href).href,
    } as never,
  });
  await upscaler.getModel();
  const img = await imageElement(request.image);
  const runs: PeerRun[] = [];
  try {
    const first = request.noWarmup ? 1 : 0;
    for (let i = first; i <= request.runs; i++) {
      const input = tf.browser.fromPixels(img);
      const start = performance.now();
      const result = (await upscaler.execute(input, {
        output: 'tensor',
        ...(request.patchSize
          ? { patchSize: request.patchSize, padding: request.padding ?? 0 }
          : {}),
      })) as Tf.Tensor;
      await result.data();
      const wallMs = performance.now() - start;
      result.dispose();
      input.dispose();
      if (i > 0) runs.push({ wallMs, backend, threads });
    }
  } finally {
    await upscaler.dispose();
  }
  return runs;
}
