/**
 * Restores an image with an installed model pack, inside the restore worker: the pack is loaded
 * from OPFS (installed-pack-source.ts) onto onnxruntime-web through the engine's loadPack and run
 * with runPack, whose finished output blocks stream out through the same tile callback as the
 * built-in models. fp16 packs never get a WebGPU session on an adapter without shader-f16; a
 * pack that WebGPU cannot load or run goes on WASM with a notice.
 */
import type { RgbaImage } from '../../../engine/image.ts';
import {
  adapterHasShaderF16,
  choosePackBackend,
  type AdapterFeaturesLike,
} from '../../../engine/latent/fp16-guard.ts';
import { loadPack, readPackManifest, type LoadedPack } from '../../../engine/latent/pack-loader.ts';
import type { ColorFix } from '../../../engine/latent/color-fix.ts';
import { runPack } from '../../../engine/latent/pipeline.ts';
import type { DeviceLimits } from '../../../engine/latent/tiling-plan.ts';
import type { TileUpdate } from '../../../engine/upscale.ts';
import { createOrtWebRuntime, WebGpuRunError, type OrtWebBackend } from '../../runtime/ort-web.ts';
import { planBackend, probeGpu } from '../gpu-probe.ts';
import { loadOrt, threadsInUse } from '../ort-loader.ts';
import type {
  BackendName,
  BackendPreference,
  RestoreStage,
} from '../../contract/restore-protocol.ts';
import { installedPackSource } from './installed-pack-source.ts';
import { packDeviceLimits, type GpuBufferLimits } from './pack-limits.ts';
import { yieldingSession } from '../yielding-session.ts';

export interface PackRestoreEvents {
  stage(stage: RestoreStage, backend: BackendName | null): void;
  notice(message: string): void;
  restart(backend: BackendName): void;
  progress(done: number, total: number): void;
  tile(update: TileUpdate): void;
}

export interface PackRestoreOptions {
  /** Colour fix after decoding; the pipeline's default (AdaIN) when absent. */
  colorFix?: ColorFix;
}

export interface PackRestoreResult {
  width: number;
  height: number;
  backend: BackendName;
  threads: number;
  runMs: number;
}

interface Loaded {
  key: string;
  pack: LoadedPack;
  runtime: ReturnType<typeof createOrtWebRuntime>;
}

/** The pack last used, kept loaded for the next restore (released when another is loaded). */
let loaded: Loaded | null = null;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0].trim().slice(0, 240);
  return line && !/^\d+$/.test(line) ? line : 'an internal error in the runtime';
}

async function load(
  packId: string,
  backend: OrtWebBackend,
  shaderF16: boolean,
  events: PackRestoreEvents,
  signal: AbortSignal,
): Promise<Loaded> {
  const source = await installedPackSource(packId);
  const key = `${packId}|${source.installedAt}|${backend}`;
  if (loaded?.key === key) return loaded;
  if (loaded) {
    const old = loaded;
    loaded = null;
    await old.pack.release().catch(() => undefined);
  }
  events.stage('loading-runtime', backend);
  const ort = await loadOrt(backend);
  events.stage('loading-model', backend);
  const runtime = createOrtWebRuntime(ort, backend);
  // Checked when it was installed: sizes only now (the source checks them as it reads).
  const pack = await loadPack(source, runtime, { verify: false, shaderF16 });
  if (signal.aborted) {
    await pack.release();
    signal.throwIfAborted();
  }
  loaded = { key, pack, runtime };
  return loaded;
}

/**
 * Limits for automatic tile sizes on `backend`: the WebGPU device ORT runs on (the adapter's
 * limits before it exists), or the memory available to WASM.
 */
async function deviceLimits(
  backend: OrtWebBackend,
  adapter: unknown,
): Promise<DeviceLimits | undefined> {
  let gpu: GpuBufferLimits | null = null;
  if (backend === 'webgpu') {
    const ort = await loadOrt('webgpu');
    const device = (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as
      { limits?: GpuBufferLimits } | undefined;
    gpu = device?.limits ?? (adapter as { limits?: GpuBufferLimits } | null)?.limits ?? null;
  }
  const deviceMemoryGiB = (navigator as WorkerNavigator & { deviceMemory?: number }).deviceMemory;
  return packDeviceLimits({ backend, gpu, deviceMemoryGiB });
}

async function run(
  model: Loaded,
  image: RgbaImage,
  events: PackRestoreEvents,
  signal: AbortSignal,
  options: PackRestoreOptions,
  limits: DeviceLimits | undefined,
): Promise<RgbaImage> {
  const { sessions } = model.pack;
  const wrapped = {
    vaeEncoder: yieldingSession(sessions.vaeEncoder, signal),
    unet: sessions.unet ? yieldingSession(sessions.unet, signal) : undefined,
    vaeDecoder: yieldingSession(sessions.vaeDecoder, signal),
  };
  // One progress scale for the UI: session runs over all stages (encoder, UNet and decoder
  // tiles). Output blocks carry the same counts, so the bar never jumps between two scales.
  let done = 0;
  let total = 0;
  return runPack(wrapped, model.pack.manifest, image, {
    tensors: model.runtime,
    embeddings: model.pack.embeddings,
    packInterface: model.pack.packInterface,
    colorFix: options.colorFix,
    limits,
    signal,
    onProgress: (d, t) => {
      done = d;
      total = t;
      events.progress(done, total);
    },
    onTile: (update) => {
      const last = update.done === update.total;
      events.tile({ ...update, done: last ? total : Math.min(done, total - 1), total });
    },
  });
}

export async function restoreInstalledPack(
  packId: string,
  image: RgbaImage,
  preference: BackendPreference,
  events: PackRestoreEvents,
  signal: AbortSignal,
  options: PackRestoreOptions = {},
): Promise<PackRestoreResult> {
  const manifest = await readPackManifest(await installedPackSource(packId));
  const plan = await planBackend(preference);
  if (plan.notice) events.notice(plan.notice);
  const { adapter } = await probeGpu();
  const shaderF16 = adapterHasShaderF16(adapter as AdapterFeaturesLike | null);
  const choice = choosePackBackend(manifest.precision, plan.backend, { shaderF16 });
  if (choice.notice) events.notice(choice.notice);
  let backend = choice.backend as OrtWebBackend;

  let model: Loaded;
  try {
    model = await load(packId, backend, shaderF16, events, signal);
  } catch (error) {
    if (backend !== 'webgpu' || signal.aborted) throw error;
    events.notice(
      `WebGPU could not load this pack (${firstLine(error)}), so WASM was used instead.`,
    );
    backend = 'wasm';
    model = await load(packId, backend, shaderF16, events, signal);
  }
  let limits = await deviceLimits(backend, adapter);
  events.stage('restoring', backend);
  let start = performance.now();
  let output: RgbaImage;
  try {
    output = await run(model, image, events, signal, options, limits);
  } catch (error) {
    if (!(error instanceof WebGpuRunError) || signal.aborted) throw error;
    events.notice(
      `WebGPU reported errors while restoring (${firstLine(error)}), so WASM was used instead.`,
    );
    backend = 'wasm';
    model = await load(packId, backend, shaderF16, events, signal);
    limits = await deviceLimits(backend, adapter);
    events.restart(backend);
    events.stage('restoring', backend);
    start = performance.now();
    output = await run(model, image, events, signal, options, limits);
  }
  return {
    width: output.width,
    height: output.height,
    backend,
    threads: backend === 'wasm' ? await threadsInUse('wasm') : 1,
    runMs: performance.now() - start,
  };
}
