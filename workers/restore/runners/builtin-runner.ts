/**
 * Built-in models (public/models/<id>/model.onnx): the engine's exact-tiling upscaler on the
 * hand-written WASM kernels (WASM, the default CPU engine) or on onnxruntime-web (WebGPU, or WASM
 * when the user picks it or the kernels cannot run the model). On a WebGPU adapter with
 * shader-f16 a model's fp16 variant runs instead, unless the request keeps fp32
 * (engine/models/builtin-precision.ts).
 */
import type { RgbaImage } from '../../../engine/image.ts';
import {
  adapterHasShaderF16,
  type AdapterFeaturesLike,
} from '../../../engine/latent/fp16-guard.ts';
import {
  chooseBuiltinFile,
  type BuiltinModelFile,
} from '../../../engine/models/builtin-precision.ts';
import type { EngineSession, TensorFactory } from '../../../engine/session.ts';
import { planFor, upscaleToTiles } from '../../../engine/upscale.ts';
import type { BuiltinModel } from '../../contract/model.ts';
import type { RestoreRequest } from '../../contract/restore-protocol.ts';
import { errorLine } from '../../contract/error-text.ts';
import { createOrtWebRuntime, type OrtWebBackend } from '../../runtime/ort-web.ts';
import { probeGpu } from '../gpu-probe.ts';
import { createKernelEngine } from '../kernel-loader.ts';
import { loadOrt, ortDevice, threadsFor } from '../ort-loader.ts';
import type { LoadContext, LoadedModel, ModelRunner, RunContext } from './runner.ts';

interface LoadedBuiltin extends LoadedModel {
  session: EngineSession;
  tensors: TensorFactory;
}

function builtinOf(request: RestoreRequest): BuiltinModel {
  if (request.model.kind !== 'builtin') throw new Error('not a built-in model');
  return request.model;
}

/** Where the app serves a built-in model's ONNX file (the build step's layout). */
export function builtinModelUrl(model: BuiltinModel, file = model.manifest.file): string {
  const { id } = model.manifest;
  return new URL(`${import.meta.env.BASE_URL}models/${id}/${file}`, self.location.href).href;
}

/** The model file this request runs on `backend`: fp16 only on WebGPU with shader-f16. */
async function modelFile(
  request: RestoreRequest,
  backend: OrtWebBackend,
): Promise<BuiltinModelFile> {
  const { manifest } = builtinOf(request);
  const shaderF16 =
    backend === 'webgpu' &&
    adapterHasShaderF16((await probeGpu()).adapter as AdapterFeaturesLike | null);
  return chooseBuiltinFile(manifest, backend, { shaderF16 }, request.gpuPrecision);
}

/** The last model file downloaded, kept for a reload on another backend. */
let cachedBytes: { url: string; bytes: Uint8Array } | null = null;

async function fetchModel(url: string, signal: AbortSignal): Promise<Uint8Array> {
  if (cachedBytes?.url === url) return cachedBytes.bytes;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Error(`Could not download the model (${errorLine(error)}).`, { cause: error });
  }
  if (!response.ok) throw new Error(`Could not download the model (HTTP ${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  cachedBytes = { url, bytes };
  return bytes;
}

function wantsKernels(request: RestoreRequest, backend: OrtWebBackend): boolean {
  return backend === 'wasm' && (request.cpuEngine ?? 'kernels') === 'kernels';
}

/** The kernels' own words for a model they do not implement: a silent fallback, no notice. */
const UNSUPPORTED = /^kernels: |unsupported/i;

export const builtinRunner: ModelRunner<LoadedBuiltin> = {
  async keyFor(request, backend) {
    const engine = wantsKernels(request, backend) ? 'kernels' : 'onnxruntime';
    const { file } = await modelFile(request, backend);
    return `builtin|${backend}|${engine}|${builtinModelUrl(builtinOf(request), file)}`;
  },

  async chooseBackend(_request, planned) {
    return { backend: planned, notice: null };
  },

  async load(request, backend, context: LoadContext) {
    const model = builtinOf(request);
    const { file, precision } = await modelFile(request, backend);
    const url = builtinModelUrl(model, file);
    const key = await this.keyFor(request, backend);
    if (wantsKernels(request, backend)) {
      context.stage('loading-model');
      const bytes = await fetchModel(url, context.signal);
      context.signal.throwIfAborted();
      try {
        if (request.faults?.kernelsUnavailable)
          throw new Error('WebAssembly SIMD is not available (test fault)');
        const engine = await createKernelEngine(bytes);
        return {
          key,
          backend,
          session: engine.session,
          tensors: engine.tensors,
          cpuEngine: 'kernels',
          precision,
          threads: engine.threads,
          device: null,
          release: async () => engine.session.release?.(),
        };
      } catch (error) {
        context.signal.throwIfAborted();
        if (!UNSUPPORTED.test(errorLine(error))) {
          context.notice(
            `The fast CPU kernels could not run this model (${errorLine(error)}), so onnxruntime-web was used.`,
          );
        }
      }
    }
    context.stage('loading-runtime');
    const ort = await loadOrt(backend);
    context.stage('loading-model');
    const bytes = await fetchModel(url, context.signal);
    context.signal.throwIfAborted();
    const runtime = createOrtWebRuntime(ort, backend);
    const session = await runtime.createSession(bytes);
    const device = await ortDevice(ort, backend);
    return {
      key,
      backend,
      session,
      tensors: runtime,
      cpuEngine: backend === 'wasm' ? 'onnxruntime' : null,
      precision,
      threads: await threadsFor(backend),
      device,
      release: async () => session.release?.(),
    };
  },

  tiling(request, image) {
    const { tileMargin } = builtinOf(request).manifest;
    const plan = planFor(image.width, image.height, {
      tileSize: request.tileSize ?? request.faults?.tileSize,
      overlap: tileMargin,
    });
    return { tileSize: Math.max(plan.tileWidth, plan.tileHeight), overlap: tileMargin };
  },

  async run(loaded, request, image: RgbaImage, context: RunContext) {
    const { manifest } = builtinOf(request);
    const tiling = { tileSize: context.tileSize, overlap: manifest.tileMargin };
    context.progress(0, planFor(image.width, image.height, tiling).tiles.length);
    return upscaleToTiles(context.wrap(loaded.session, manifest.scale), loaded.tensors, image, {
      ...tiling,
      scale: manifest.scale,
      inputRange: manifest.inputRange,
      signal: context.signal,
      onTile: context.tile,
    });
  },
};
