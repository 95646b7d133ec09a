/**
 * Installed model packs: loaded from OPFS (packs/installed-pack-source.ts) onto onnxruntime-web
 * with the engine's loadPack and run by the latent pipeline's runPack, whose finished output
 * blocks stream out through the same tile callback as the built-in models. fp16 packs never get
 * a WebGPU session on an adapter without shader-f16.
 */
import type { RgbaImage } from '../../../engine/image.ts';
import type { EngineSession } from '../../../engine/session.ts';
import {
  adapterHasShaderF16,
  choosePackBackend,
  type AdapterFeaturesLike,
} from '../../../engine/latent/fp16-guard.ts';
import { loadPack, readPackManifest, type LoadedPack } from '../../../engine/latent/pack-loader.ts';
import { runPack } from '../../../engine/latent/pipeline.ts';
import { estimatePackMemory } from '../../../engine/latent/memory-estimate.ts';
import { resolveTiling, type DeviceLimits } from '../../../engine/latent/tiling-plan.ts';
import type { PackModel } from '../../contract/model.ts';
import type { RestoreRequest } from '../../contract/restore-protocol.ts';
import { createOrtWebRuntime, type OrtWebBackend } from '../../runtime/ort-web.ts';
import { probeGpu } from '../gpu-probe.ts';
import { loadOrt, ortDevice, threadsFor } from '../ort-loader.ts';
import { installedPackSource } from '../packs/installed-pack-source.ts';
import { MIN_TENSOR_BYTES, packDeviceLimits, type GpuBufferLimits } from '../packs/pack-limits.ts';
import type { LoadedModel, ModelRunner } from './runner.ts';

interface LoadedPackModel extends LoadedModel {
  pack: LoadedPack;
  runtime: ReturnType<typeof createOrtWebRuntime>;
}

/**
 * Packs choose their tile sizes from a memory budget (engine/latent/tiling-plan.ts). The
 * service's tile size is a nominal side whose square scales that budget: halving it after an
 * out-of-memory error quarters the budget.
 */
const NOMINAL_TILE = 1024;
const NOMINAL_OVERLAP = 64;

function packOf(request: RestoreRequest): PackModel {
  if (request.model.kind !== 'pack') throw new Error('not a model pack');
  return request.model;
}

async function shaderF16(): Promise<boolean> {
  const { adapter } = await probeGpu();
  return adapterHasShaderF16(adapter as AdapterFeaturesLike | null);
}

/**
 * Limits for automatic tile sizes on `backend`: the WebGPU device ORT runs on (the adapter's
 * limits before it exists), or the memory available to WASM.
 */
async function deviceLimits(backend: OrtWebBackend): Promise<DeviceLimits | undefined> {
  let gpu: GpuBufferLimits | null = null;
  if (backend === 'webgpu') {
    const ort = await loadOrt('webgpu');
    const device = (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as
      { limits?: GpuBufferLimits } | undefined;
    const { adapter } = await probeGpu();
    gpu = device?.limits ?? (adapter as { limits?: GpuBufferLimits } | null)?.limits ?? null;
  }
  const deviceMemoryGiB = (navigator as WorkerNavigator & { deviceMemory?: number }).deviceMemory;
  return packDeviceLimits({ backend, gpu, deviceMemoryGiB });
}

export const packRunner: ModelRunner<LoadedPackModel> = {
  async keyFor(request, backend) {
    const { pack } = packOf(request);
    return `pack|${backend}|${pack.id}|${pack.installedAt}`;
  },

  async chooseBackend(request, planned) {
    const manifest = await readPackManifest(await installedPackSource(packOf(request).pack.id));
    const choice = choosePackBackend(manifest.precision, planned, { shaderF16: await shaderF16() });
    return { backend: choice.backend as OrtWebBackend, notice: choice.notice ?? null };
  },

  async load(request, backend, context) {
    const { pack: info } = packOf(request);
    const source = await installedPackSource(info.id);
    const key = await this.keyFor(request, backend);
    // Refuse before loading anything when the pack cannot fit this backend (engine's estimate).
    const manifest = await readPackManifest(source);
    const tiling = resolveTiling(manifest, undefined, await deviceLimits(backend));
    const estimate = estimatePackMemory(manifest, backend, tiling);
    if (estimate.refusal) throw new Error(estimate.refusal);
    context.stage('loading-runtime');
    const ort = await loadOrt(backend);
    context.stage('loading-model');
    const runtime = createOrtWebRuntime(ort, backend);
    // Checked when it was installed: sizes only now (the source checks them as it reads).
    const pack = await loadPack(source, runtime, { verify: false, shaderF16: await shaderF16() });
    if (context.signal.aborted) {
      await pack.release();
      context.signal.throwIfAborted();
    }
    const device = await ortDevice(ort, backend);
    return {
      key,
      backend,
      pack,
      runtime,
      cpuEngine: null,
      threads: await threadsFor(backend),
      device,
      release: () => pack.release(),
    };
  },

  tiling() {
    return { tileSize: NOMINAL_TILE, overlap: NOMINAL_OVERLAP };
  },

  async run(loaded, request, image: RgbaImage, context) {
    const { pack, runtime } = loaded;
    const { sessions, manifest } = pack;
    const base = await deviceLimits(loaded.backend);
    const share = (context.tileSize / NOMINAL_TILE) ** 2;
    const limits =
      base && share < 1
        ? {
            maxBufferBytes: Math.max(MIN_TENSOR_BYTES / 4, Math.round(base.maxBufferBytes * share)),
          }
        : base;
    const one = (s?: EngineSession) => (s ? context.wrap(s, 1) : undefined);
    const wrapped = {
      vaeEncoder: context.wrap(sessions.vaeEncoder, 1),
      unet: sessions.unet ? context.wrap(sessions.unet, 1) : undefined,
      vaeDecoder: context.wrap(sessions.vaeDecoder, manifest.vae.downscaleFactor),
      // The seam-free decoder's two graphs, where the pack has them (engine/latent/kl-vae).
      vaeDecoderMid: sessions.vaeDecoderMid ? context.wrap(sessions.vaeDecoderMid, 1) : undefined,
      // Or its chunked-attention form (pre, attention over query chunks, post), all untiled.
      vaeDecoderMidPre: one(sessions.vaeDecoderMidPre),
      vaeDecoderMidAttention: one(sessions.vaeDecoderMidAttention),
      vaeDecoderMidPost: one(sessions.vaeDecoderMidPost),
      vaeDecoderUp: sessions.vaeDecoderUp
        ? context.wrap(sessions.vaeDecoderUp, manifest.vae.downscaleFactor)
        : undefined,
      // And the seam-free encoder's: `down` runs over image tiles, `mid` once at latent size.
      vaeEncoderDown: sessions.vaeEncoderDown
        ? context.wrap(sessions.vaeEncoderDown, 1)
        : undefined,
      vaeEncoderMid: sessions.vaeEncoderMid ? context.wrap(sessions.vaeEncoderMid, 1) : undefined,
      vaeEncoderMidPre: one(sessions.vaeEncoderMidPre),
      vaeEncoderMidAttention: one(sessions.vaeEncoderMidAttention),
      vaeEncoderMidPost: one(sessions.vaeEncoderMidPost),
    };
    // One progress scale for the UI: session runs over all stages (encoder, UNet and decoder
    // tiles). Output blocks carry the same counts, so the bar never jumps between two scales.
    let done = 0;
    let total = 0;
    return runPack(wrapped, manifest, image, {
      tensors: runtime,
      embeddings: pack.embeddings,
      packInterface: pack.packInterface,
      colorFix: packOf(request).colorFix,
      limits,
      signal: context.signal,
      onProgress: (d, t) => {
        done = d;
        total = t;
        context.progress(done, total);
      },
      onTile: (update) => {
        const last = update.done === update.total;
        context.tile({ ...update, done: last ? total : Math.min(done, total - 1), total });
      },
    });
  },
};
