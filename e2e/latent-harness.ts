/**
 * Browser side of e2e/latent-parity.spec.ts and e2e/sd-pack-parity.spec.ts: runs model packs in
 * the page with the app's own onnxruntime-web loader and runtime adapter, through the engine's
 * loadPack / runPack (graph variants by backend, external data included).
 * Bundled by the spec with Vite (library mode) and served next to ORT's .mjs/.wasm files.
 */
import { loadOrt } from '../workers/restore/ort-loader.ts';
import { createOrtWebRuntime, type OrtWebBackend } from '../workers/runtime/ort-web.ts';
import { navigatorGpu } from '../workers/runtime/webgpu-types.ts';
import {
  adapterHasShaderF16,
  choosePackBackend,
  type AdapterFeaturesLike,
} from '../engine/latent/fp16-guard.ts';
import { loadPack, urlPackSource, type LoadedPack } from '../engine/latent/pack-loader.ts';
import {
  decodeSegmented,
  midOf,
  segmentedRunCount,
  segmentedTiles,
  type KlStatsMode,
} from '../engine/latent/kl-vae/segmented-decode.ts';
import { midAttention, midRunCount } from '../engine/latent/kl-vae/chunked-attention.ts';
import { runPack, type StageReport } from '../engine/latent/pipeline.ts';
import type { LatentTilingOption } from '../engine/latent/tiling-plan.ts';
import type { ColorFix } from '../engine/latent/color-fix.ts';
import type { GraphForm } from '../engine/latent/manifest.ts';
import type { CreateSessionOptions } from '../engine/session.ts';
import { runPackGraphs, type GraphInputs } from './latent-graph-runs.ts';

export interface HarnessRun {
  backend: OrtWebBackend;
  pack: string;
  image: { width: number; height: number; data: number[] };
  tiling?: LatentTilingOption;
  colorFix?: ColorFix;
  /** Graph form to load (default 'auto': the pack's variant for the backend). */
  form?: GraphForm | 'auto';
  /** GroupNorm statistics of the segmented KL VAE (runPack's klStats). */
  klStats?: KlStatsMode;
}

export interface HarnessGraphRun {
  backend: OrtWebBackend;
  pack: string;
  form?: GraphForm | 'auto';
  inputs: GraphInputs;
}

async function adapterInfo(): Promise<{ shaderF16: boolean; description: string | null }> {
  const gpu = navigatorGpu();
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  const info = (
    adapter as { info?: { vendor?: string; architecture?: string; description?: string } } | null
  )?.info;
  return {
    shaderF16: adapterHasShaderF16(adapter as AdapterFeaturesLike | null),
    description: info
      ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ')
      : null,
  };
}

async function run(job: HarnessRun) {
  const { shaderF16 } = await adapterInfo();
  const ort = await loadOrt(job.backend);
  const runtime = createOrtWebRuntime(ort, job.backend);
  const pack = await loadPack(urlPackSource(new URL(job.pack, location.href).href), runtime, {
    shaderF16,
    form: job.form,
  });
  try {
    let tiles = 0;
    const stages: StageReport[] = [];
    const image = {
      width: job.image.width,
      height: job.image.height,
      data: Uint8ClampedArray.from(job.image.data),
    };
    const start = performance.now();
    const out = await runPack(pack.sessions, pack.manifest, image, {
      tensors: runtime,
      embeddings: pack.embeddings,
      packInterface: pack.packInterface,
      tiling: job.tiling,
      colorFix: job.colorFix,
      klStats: job.klStats,
      onTile: () => tiles++,
      onStage: (stage) => stages.push(stage),
    });
    return {
      width: out.width,
      height: out.height,
      data: Array.from(out.data),
      tiles,
      ms: performance.now() - start,
      stages,
      backend: runtime.backend,
      form: pack.graphs.form,
      graphs: pack.graphs,
    };
  } finally {
    await pack.release();
  }
}

/** Each graph of the pack once, on the given inputs: raw float outputs. */
async function graphs(job: HarnessGraphRun) {
  const { shaderF16 } = await adapterInfo();
  const ort = await loadOrt(job.backend);
  const runtime = createOrtWebRuntime(ort, job.backend);
  const pack = await loadPack(urlPackSource(new URL(job.pack, location.href).href), runtime, {
    shaderF16,
    form: job.form,
  });
  try {
    const outputs = await runPackGraphs(pack, runtime, job.inputs);
    return { ...outputs, form: pack.graphs.form, backend: runtime.backend };
  } finally {
    await pack.release();
  }
}

export interface HarnessModelRun {
  backend: OrtWebBackend;
  /** URL of an .onnx file (relative to the page). */
  model: string;
  /** float32 inputs by name. */
  feeds: Record<string, { data: number[]; dims: number[] }>;
}

/** One ONNX model run once on float32 inputs: every output as numbers (op-level checks). */
async function runModel(job: HarnessModelRun) {
  const ort = await loadOrt(job.backend);
  const runtime = createOrtWebRuntime(ort, job.backend);
  const res = await fetch(new URL(job.model, location.href));
  const session = await runtime.createSession(new Uint8Array(await res.arrayBuffer()));
  try {
    const feeds = Object.fromEntries(
      Object.entries(job.feeds).map(([name, f]) => [
        name,
        runtime.tensor('float32', Float32Array.from(f.data), f.dims),
      ]),
    );
    const out = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([name, t]) => [name, Array.from(t.data as Float32Array)]),
    );
  } finally {
    await session.release?.();
  }
}

/** What the fp16 guard does with an fp16 pack on this browser's adapter. */
async function fp16Guard(pack: string) {
  const adapter = await adapterInfo();
  const choice = choosePackBackend('fp16', 'webgpu', { shaderF16: adapter.shaderF16 });
  let strict: string | null = null;
  try {
    choosePackBackend('fp16', 'webgpu', { shaderF16: adapter.shaderF16, allowWasmFallback: false });
  } catch (e) {
    strict = `${(e as Error).name}: ${(e as Error).message}`;
  }
  // Loading the pack straight onto a WebGPU runtime must be refused before any session exists.
  let direct: string | null = null;
  const ort = await loadOrt('webgpu');
  let sessions = 0;
  const base = createOrtWebRuntime(ort, 'webgpu');
  const counting = {
    ...base,
    createSession: (m: Uint8Array | string, o?: CreateSessionOptions) => (
      sessions++,
      base.createSession(m, o)
    ),
  };
  try {
    const loaded = await loadPack(urlPackSource(new URL(pack, location.href).href), counting, {
      shaderF16: adapter.shaderF16,
    });
    await loaded.release();
  } catch (e) {
    direct = `${(e as Error).name}: ${(e as Error).message}`;
  }
  return { adapter, choice, strict, direct, sessionsCreated: sessions };
}

export interface HarnessKlDecode {
  /** Latent edge in pixels (square latent; output edge = 8 × this). */
  size: number;
  /** Decoder tile in latent pixels. */
  tile: number;
  mode?: KlStatsMode;
  /** Stop after this many session runs (the mid graph counts as one); default all of them. */
  maxRuns?: number;
}

let klPack: LoadedPack | null = null;
let klRuntime: ReturnType<typeof createOrtWebRuntime> | null = null;

/** Loads a pack with a segmented KL decoder on WASM and keeps it for klDecode. */
async function klLoad(job: { pack: string }) {
  const ort = await loadOrt('wasm');
  klRuntime = createOrtWebRuntime(ort, 'wasm');
  const start = performance.now();
  klPack = await loadPack(urlPackSource(new URL(job.pack, location.href).href), klRuntime, {
    verify: false,
  });
  return { ms: performance.now() - start };
}

/** The loaded pack's segmented decoder on a smooth synthetic latent (bench/kl-vae-memory.ts). */
async function klDecode(job: HarnessKlDecode) {
  if (!klPack || !klRuntime) throw new Error('klLoad first');
  const { manifest: m, sessions } = klPack;
  const seg = m.vae.segmentedDecoder;
  const mid = midOf(
    sessions.vaeDecoderMid,
    sessions.vaeDecoderMidPre,
    sessions.vaeDecoderMidAttention,
    sessions.vaeDecoderMidPost,
  );
  if (!seg || !mid || !sessions.vaeDecoderUp) throw new Error('the pack has no segmented decoder');
  const dec = {
    mid,
    up: sessions.vaeDecoderUp,
    norms: seg.norms,
    stats: seg.stats,
    reach: seg.reach,
    factor: m.vae.downscaleFactor,
  };
  const C = m.vae.latentChannels;
  const n = job.size;
  const data = new Float32Array(C * n * n);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * Math.cos(i * 0.013);
  const latent = { channels: C, width: n, height: n, data };
  const controller = new AbortController();
  // Runs as maxRuns counts them: the mid graph's (one, or pre + attention chunks + post, all
  // first) count as one.
  let runs = 0;
  let sessionRuns = 0;
  const start = performance.now();
  const midRuns = midRunCount(mid, n * n);
  let midMs = 0;
  let complete = true;
  try {
    await decodeSegmented(dec, latent, {
      tensors: klRuntime,
      tile: job.tile,
      mode: job.mode,
      signal: controller.signal,
      onRun: () => {
        if (++sessionRuns === midRuns) midMs = performance.now() - start;
        runs = Math.max(0, sessionRuns - midRuns + 1);
        if (runs >= (job.maxRuns ?? Infinity)) controller.abort(new Error('max runs'));
      },
    });
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    complete = sessionRuns >= segmentedRunCount(dec, n, n, job.tile, job.mode);
  }
  return {
    runs,
    total: segmentedRunCount(dec, n, n, job.tile, job.mode) - midRuns + 1,
    tiles: segmentedTiles(n, n, job.tile, dec.reach).length,
    complete,
    ms: performance.now() - start,
    attention: midAttention(mid),
    midRuns,
    midMs,
  };
}

declare global {
  interface Window {
    latentHarness: {
      klLoad: typeof klLoad;
      klDecode: typeof klDecode;
      run: typeof run;
      graphs: typeof graphs;
      runModel: typeof runModel;
      fp16Guard: typeof fp16Guard;
      adapterInfo: typeof adapterInfo;
    };
  }
}

window.latentHarness = { run, graphs, runModel, fp16Guard, adapterInfo, klLoad, klDecode };
