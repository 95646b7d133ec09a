/**
 * The measurements of `npm run bench`, each returning plain data for results.json. All browser
 * figures come from one Chromium; native figures from this Node process. The app's worker runs
 * twice wherever it is measured: on the hand-written kernels (what users get on WASM; the goals are
 * judged on it) and on onnxruntime-web (the reference path).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltinModelManifest } from '../../engine/models/builtin-manifest.ts';
import { planFor } from '../../engine/upscale.ts';
import { esrganModelSpecs } from '../../tools/esrgan/catalog.ts';
import { convertEsrgan } from '../../tools/esrgan/convert-esrgan.ts';
import { REAL_ESRGAN_SPECS } from '../../tools/ncnn/catalog.ts';
import { convertRealEsrgan } from '../../tools/ncnn/convert-real-esrgan.ts';
import { kernelFile } from '../../tools/kernels/build-kernels.ts';
import type {
  AppRun,
  BenchKernels,
  CpuEngine,
  OrtSessionVariant,
  OverheadPair,
} from '../page/protocol.ts';
import {
  processMemory,
  rendererPids,
  resetPeak,
  type BenchBrowser,
  type BenchPage,
} from './chromium.ts';
import { kernelRaw, nativePipeline, nativeRaw } from './native.ts';
import { linearFit, stat, type Stat } from './stats.ts';

export interface BenchContext {
  browser: BenchBrowser;
  /** A page kept open for the timing suites. */
  page: BenchPage;
  repoRoot: string;
  dataDir: string;
  /** URL path of an input of the given size. */
  input(size: number): string;
  /** File path of an input of the given size. */
  inputFile(size: number): string;
  manifest(id: string): BuiltinModelManifest;
  threads: number;
  runs: number;
  log(line: string): void;
}

const modelUrl = (m: BuiltinModelManifest) => `/models/${m.id}/${m.file}`;
const modelPath = (ctx: BenchContext, m: BuiltinModelManifest) =>
  path.join(ctx.repoRoot, 'public/models', m.id, m.file);

/** The app's worker on WASM, as the page timed it. */
export interface AppFigures {
  /** What the worker reported running (the page rejects any other than the one asked for). */
  cpuEngine: CpuEngine | null;
  threads: number;
  wall: Stat;
  firstTile: Stat;
  tiles: number;
}

/** Restores through the app's worker on `page` with the given CPU engine (one warm-up first). */
export async function appRuns(
  ctx: BenchContext,
  page: BenchPage,
  id: string,
  size: number,
  cpuEngine: CpuEngine,
  runs = ctx.runs,
): Promise<AppRun[]> {
  return page.call('app', { modelId: id, image: ctx.input(size), runs, cpuEngine });
}

export function appFigures(ctx: BenchContext, runs: AppRun[]): AppFigures {
  const threads = runs[0]?.threads ?? 0;
  if (threads !== ctx.threads)
    ctx.log(
      `  note: the app's worker ran ${threads} threads (it uses every core), not ${ctx.threads}`,
    );
  return {
    cpuEngine: runs[0]?.cpuEngine ?? null,
    threads,
    wall: stat(runs.map((r) => r.wallMs)),
    firstTile: stat(runs.map((r) => r.firstTileMs)),
    tiles: runs[0]?.tiles ?? 0,
  };
}

// ---------------------------------------------------------------- peer and native (issues 7, 9)

export interface HeadToHead {
  model: string;
  size: number;
  threads: number;
  /** The app's worker on the hand-written kernels: what users get, and what the goals judge. */
  appKernels: AppFigures;
  /** The same worker with cpuEngine 'onnxruntime' (the reference path), for comparison. */
  appOnnxruntime: AppFigures;
  peerWasm: { threads: number | null; wall: Stat } | null;
  peerWasmDefault: { threads: number | null; wall: Stat } | null;
  peerDefault: { backend: string; wall: Stat; error?: string } | null;
  native: { wall: Stat; inference: Stat };
}

export async function headToHead(
  ctx: BenchContext,
  id: string,
  size: number,
  opts: { peerDefault: boolean; peerPatch?: number },
): Promise<HeadToHead> {
  const m = ctx.manifest(id);
  const image = ctx.input(size);
  ctx.log(`${id} ${size}²: the app's worker on the hand-written kernels`);
  const appKernels = appFigures(ctx, await appRuns(ctx, ctx.page, id, size, 'kernels'));
  ctx.log(`${id} ${size}²: the app's worker on onnxruntime-web`);
  const appOnnxruntime = appFigures(ctx, await appRuns(ctx, ctx.page, id, size, 'onnxruntime'));
  const family = m.family;
  const peer = async (backend: 'wasm' | 'default', threads?: number, patch?: number) => {
    const page = await ctx.browser.open();
    try {
      return await page.call('peer', {
        family,
        scale: m.scale,
        image,
        runs: backend === 'default' ? 1 : ctx.runs,
        noWarmup: backend === 'default',
        backend,
        threads,
        patchSize: patch,
        padding: patch ? 8 : undefined,
      });
    } finally {
      await page.close();
    }
  };
  ctx.log(`${id} ${size}²: UpscalerJS, tfjs WASM forced to ${ctx.threads} threads`);
  const peerWasm = await peer('wasm', ctx.threads).catch(
    (e: Error) => (ctx.log(`  failed: ${e.message}`), null),
  );
  ctx.log(`${id} ${size}²: UpscalerJS, tfjs WASM as documented (tfjs picks its threads)`);
  const peerWasmDefault = await peer('wasm').catch(
    (e: Error) => (ctx.log(`  failed: ${e.message}`), null),
  );
  let peerDefault: HeadToHead['peerDefault'] = null;
  if (opts.peerDefault) {
    ctx.log(
      `${id} ${size}²: UpscalerJS, default backend (one run${opts.peerPatch ? `, patchSize ${opts.peerPatch}, padding 8` : ''})`,
    );
    try {
      const runs = await peer('default', undefined, opts.peerPatch);
      peerDefault = { backend: runs[0]?.backend ?? '?', wall: stat(runs.map((r) => r.wallMs)) };
    } catch (error) {
      peerDefault = {
        backend: '?',
        wall: stat([]),
        error: (error as Error).message.split('\n')[0],
      };
    }
  }
  ctx.log(`${id} ${size}²: onnxruntime-node, ${ctx.threads} threads, same pipeline`);
  const native = await nativePipeline(
    modelPath(ctx, m),
    m,
    ctx.inputFile(size),
    ctx.threads,
    ctx.runs,
  );
  return {
    model: id,
    size,
    threads: ctx.threads,
    appKernels,
    appOnnxruntime,
    peerWasm: peerWasm?.length
      ? { threads: peerWasm[0].threads, wall: stat(peerWasm.map((r) => r.wallMs)) }
      : null,
    peerWasmDefault: peerWasmDefault?.length
      ? { threads: peerWasmDefault[0].threads, wall: stat(peerWasmDefault.map((r) => r.wallMs)) }
      : null,
    peerDefault,
    native: {
      wall: stat(native.map((r) => r.wallMs)),
      inference: stat(native.map((r) => r.inferenceMs)),
    },
  };
}

/** UpscalerJS's best median wall (any backend that ran), or Infinity when none ran. */
export function bestPeer(h: HeadToHead): number {
  return Math.min(
    ...[h.peerWasm, h.peerWasmDefault].flatMap((p) => (p?.wall.n ? [p.wall.median] : [])),
    ...(h.peerDefault?.wall.n ? [h.peerDefault.wall.median] : []),
  );
}

// ------------------------------------------------------------- overhead and first tile (7.3, 7.5)

export interface EngineOverhead {
  cpuEngine: CpuEngine;
  /** The app's worker on this engine: wall and first tile on the page. */
  app: AppFigures;
  /** Sum of session.run inside the app's worker, in the same restores as `app.wall`. */
  appInference: Stat;
  /** Per restore: the wall the page saw / that restore's own sum of session.run. */
  appRatio: Stat;
  /**
   * The same job through the engine pipeline in the bench worker (same engine code and build, same
   * threads, the same session.run timer), run in pairs with the app's restores: its sum of
   * session.run, and that pipeline's own wall.
   */
  inference: Stat;
  pipelineWall: Stat;
  /**
   * The goal's figure, median of `appRatio`: what the app adds to inference (tiling, blending,
   * messages, the page's paste), measured within each restore so that the machine's drift cancels.
   */
  overhead: number;
  /**
   * Median over pairs of the app's sum of session.run / the bench worker's: 1 when the model runs
   * as fast in the app's worker as alone (what the in-restore ratio cannot see).
   */
  runSpeedRatio: number;
  /** Median over pairs of app wall / the bench worker's sum of session.run. */
  crossOverhead: number;
  /** Median over restores of first tile / wall. */
  firstTileFraction: number;
}

export interface Overhead {
  model: string;
  size: number;
  tiles: number;
  /** One tile's share of the work: 1 / tiles. */
  tileShare: number;
  kernels: EngineOverhead;
  onnxruntime: EngineOverhead;
}

/** Checks what a restore reported before a ratio is made of it. */
function checkedPair(pair: OverheadPair): OverheadPair {
  const { app, pipeline } = pair;
  if (!(app.inferenceMs > 0 && app.inferenceMs <= app.wallMs))
    throw new Error(
      `the app's worker reported ${app.inferenceMs} ms in session.run for a ${app.wallMs} ms restore`,
    );
  if (!(pipeline.inferenceMs > 0 && pipeline.inferenceMs <= pipeline.wallMs))
    throw new Error(
      `the bench worker reported ${pipeline.inferenceMs} ms in session.run for a ${pipeline.wallMs} ms pipeline`,
    );
  return pair;
}

export async function overhead(ctx: BenchContext, id: string, size: number): Promise<Overhead> {
  const m = ctx.manifest(id);
  const measure = async (cpuEngine: CpuEngine): Promise<EngineOverhead> => {
    ctx.log(
      `${id} ${size}²: the app's worker on ${cpuEngine} and the engine pipeline in the bench worker, ${ctx.runs} pairs`,
    );
    const pairs = (
      await ctx.page.call('overhead', {
        runs: ctx.runs,
        app: { modelId: id, image: ctx.input(size), runs: 0, cpuEngine },
        pipeline: {
          modelUrl: modelUrl(m),
          kernels: cpuEngine === 'kernels',
          image: ctx.input(size),
          runs: 0,
          scale: m.scale,
          inputRange: m.inputRange,
          overlap: m.tileMargin,
          threads: ctx.threads,
        },
      })
    ).map(checkedPair);
    const app = appFigures(
      ctx,
      pairs.map((p) => p.app),
    );
    const per = (f: (p: OverheadPair) => number) => stat(pairs.map(f));
    const appRatio = per((p) => p.app.wallMs / p.app.inferenceMs);
    return {
      cpuEngine,
      app,
      appInference: per((p) => p.app.inferenceMs),
      appRatio,
      inference: per((p) => p.pipeline.inferenceMs),
      pipelineWall: per((p) => p.pipeline.wallMs),
      overhead: appRatio.median,
      runSpeedRatio: per((p) => p.app.inferenceMs / p.pipeline.inferenceMs).median,
      crossOverhead: per((p) => p.app.wallMs / p.pipeline.inferenceMs).median,
      firstTileFraction: per((p) => p.app.firstTileMs / p.app.wallMs).median,
    };
  };
  const kernels = await measure('kernels');
  const onnxruntime = await measure('onnxruntime');
  return {
    model: id,
    size,
    tiles: kernels.app.tiles,
    tileShare: 1 / Math.max(1, kernels.app.tiles),
    kernels,
    onnxruntime,
  };
}

// --------------------------------------------------------------------------------- memory

/** One restore's memory in a fresh renderer, bytes. */
export interface MemoryFigures {
  /** Renderer process (page + worker) peak RSS growth over its RSS before the restore. */
  rendererGrowth: number;
  /** Page's share: the output RGBA it keeps plus its JS heap growth. */
  pageGrowth: number;
  /** rendererGrowth - pageGrowth. */
  workerGrowth: number;
}

export interface MemoryPoint {
  size: number;
  tiles: number;
  /** The app's worker on the hand-written kernels. */
  kernels: MemoryFigures;
  /** The app's worker on onnxruntime-web. */
  onnxruntime: MemoryFigures;
}

export interface MemoryReport {
  model: string;
  points: MemoryPoint[];
  /** Worker bytes per input pixel (least squares over the points), per engine. */
  workerSlope: Record<CpuEngine, number>;
  pageSlope: number;
  note?: string;
}

export async function memory(
  ctx: BenchContext,
  id: string,
  sizes: number[],
): Promise<MemoryReport> {
  const m = ctx.manifest(id);
  const points: MemoryPoint[] = [];
  let note: string | undefined;
  // One restore (the warm-up, which loads the model too) in a fresh page, so a fresh renderer.
  const measure = async (size: number, cpuEngine: CpuEngine): Promise<MemoryFigures> => {
    ctx.log(`${id} ${size}²: peak memory, app's worker on ${cpuEngine} (fresh renderer)`);
    const page = await ctx.browser.open();
    try {
      await page.call('info');
      const heap = () =>
        page.page.evaluate(
          () =>
            (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory
              ?.usedJSHeapSize ?? 0,
        );
      const outBytes = size * m.scale * (size * m.scale) * 4;
      // Which renderer hosts the page is not exposed: reset every renderer's peak, and take the one
      // that grew most during the restore (the other pages are idle meanwhile).
      const before = new Map<number, number>();
      for (const pid of await rendererPids(ctx.browser.cdp)) {
        const mem = await processMemory(pid);
        if (mem && (await resetPeak(pid))) before.set(pid, mem.rss);
      }
      const heapBefore = await heap();
      await appRuns(ctx, page, id, size, cpuEngine, 0);
      let renderer = 0;
      for (const [pid, rss] of before) {
        const mem = await processMemory(pid);
        if (mem) renderer = Math.max(renderer, mem.peak - rss);
      }
      if (before.size === 0) note = 'renderer memory not readable (/proc): figures are 0';
      const pageGrowth = outBytes + Math.max(0, (await heap()) - heapBefore - outBytes);
      return { rendererGrowth: renderer, pageGrowth, workerGrowth: renderer - pageGrowth };
    } finally {
      await page.close();
    }
  };
  for (const size of sizes) {
    points.push({
      size,
      tiles: planFor(size, size, { overlap: m.tileMargin }).tiles.length,
      kernels: await measure(size, 'kernels'),
      onnxruntime: await measure(size, 'onnxruntime'),
    });
  }
  const px = points.map((p) => p.size * p.size);
  const slope = (values: number[]) => linearFit(px, values).slope;
  return {
    model: id,
    points,
    workerSlope: {
      kernels: slope(points.map((p) => p.kernels.workerGrowth)),
      onnxruntime: slope(points.map((p) => p.onnxruntime.workerGrowth)),
    },
    pageSlope: slope(points.map((p) => p.kernels.pageGrowth)),
    note,
  };
}

// ------------------------------------------------------------------------ runtime variants

export interface VariantResult {
  model: string;
  size: number;
  name: string;
  description: string;
  threads: number;
  workers: number;
  wall: Stat;
  /** The variant this one is compared with ('baseline' unless said otherwise). */
  reference: string;
  /** Max |output - un-rewritten conversion's output| on the 0..255 scale (onnxruntime-node, same input). */
  maxDiff255: number | null;
}

interface VariantSpec {
  name: string;
  description: string;
  session?: OrtSessionVariant;
  /** Run the converter's graph without the exact rewrites instead of model.onnx. */
  unrewritten?: boolean;
  threads?: number;
  workers?: number;
  kernels?: boolean | BenchKernels;
  reference?: string;
}

/**
 * Writes the model converted without the exact rewrites (exactRewrites false: a Resize per
 * upsampling, a Mul per residual scaling) to the data folder, and returns its file name.
 * public/models holds the rewritten graph, which is what the app ships.
 */
export async function unrewrittenModel(
  ctx: BenchContext,
  m: BuiltinModelManifest,
): Promise<string> {
  const nodeModules = path.join(ctx.repoRoot, 'node_modules');
  const spec = esrganModelSpecs().find((s) => s.id === m.id);
  const ncnn = REAL_ESRGAN_SPECS.find((s) => s.id === m.id);
  if (!spec && !ncnn) throw new Error(`${m.id} is not a built-in ESRGAN or Real-ESRGAN model`);
  const converted = spec
    ? await convertEsrgan(nodeModules, spec, { exactRewrites: false })
    : await convertRealEsrgan(nodeModules, ncnn!, { exactRewrites: false });
  const name = `${m.id}.unrewritten.onnx`;
  await writeFile(path.join(ctx.dataDir, name), converted.bytes);
  return name;
}

export function variantSpecs(size: number, threads: number): VariantSpec[] {
  const fixed = { freeDimensionOverrides: { height: size, width: size } };
  return [
    {
      name: 'unrewritten',
      description:
        'the converter without the exact rewrites (exactRewrites: false; tools/esrgan/exact-rewrites.ts)',
      unrewritten: true,
      reference: 'unrewritten',
    },
    {
      name: 'baseline',
      description:
        "model.onnx as the app ships it (exact rewrites applied), graphOptimizationLevel 'all'; vs unrewritten = what the exact rewrites gain",
      reference: 'unrewritten',
    },
    {
      name: 'opt-disabled',
      description: "graphOptimizationLevel 'disabled'",
      session: { graphOptimizationLevel: 'disabled' },
    },
    {
      name: 'opt-basic',
      description: "graphOptimizationLevel 'basic'",
      session: { graphOptimizationLevel: 'basic' },
    },
    {
      name: 'opt-extended',
      description: "graphOptimizationLevel 'extended'",
      session: { graphOptimizationLevel: 'extended' },
    },
    { name: 'fixed-shape', description: 'freeDimensionOverrides to the tile size', session: fixed },
    {
      name: 'no-mem-pattern',
      description: 'enableMemPattern false',
      session: { enableMemPattern: false },
    },
    { name: '1-thread', description: 'one thread (for scaling)', threads: 1 },
    {
      name: `${threads}-workers`,
      description: `${threads} workers x 1 thread, image split in bands (+ tileMargin rows)`,
      threads: 1,
      workers: threads,
    },
    {
      name: 'kernels',
      description:
        "hand-written WASM kernels (the app's default CPU engine: Winograd, relaxed SIMD, concat-free)",
      kernels: true,
    },
    { name: 'kernels-1-thread', description: 'the same, one thread', kernels: true, threads: 1 },
    {
      name: 'kernels-simd128',
      description: 'the kernels built for plain SIMD128 (no relaxed-SIMD fused multiply-add)',
      kernels: { flavour: 'simd' },
      reference: 'kernels',
    },
    {
      name: 'kernels-direct',
      description: 'the kernels with direct convolutions only (no Winograd)',
      kernels: { winograd: false },
      reference: 'kernels',
    },
  ];
}

export async function variants(
  ctx: BenchContext,
  id: string,
  size: number,
  only?: string[],
): Promise<VariantResult[]> {
  const m = ctx.manifest(id);
  const shipped = new Uint8Array(await readFile(modelPath(ctx, m)));
  const unrewrittenName = await unrewrittenModel(ctx, m);
  const unrewritten = new Uint8Array(await readFile(path.join(ctx.dataDir, unrewrittenName)));
  const rangeMax = m.inputRange[1];
  const reference = await nativeRaw(unrewritten, size, rangeMax, ctx.threads, 0);
  const maxDiff = (out: Float32Array) => {
    let d = 0;
    for (let i = 0; i < reference.output.length; i++)
      d = Math.max(d, Math.abs(reference.output[i] - out[i]));
    return (d * 255) / rangeMax;
  };
  const shippedDiff = maxDiff((await nativeRaw(shipped, size, rangeMax, ctx.threads, 0)).output);
  // Node has no relaxed SIMD by default: the diffs are the SIMD128 build's (relaxed FMA rounds
  // once instead of twice; test/kernels-parity.test.ts checks both against the reference).
  const simd = new Uint8Array(await readFile(kernelFile('simd')));
  const kernelDiffs = new Map<boolean, number>();
  const kernelDiff = async (winograd: boolean) => {
    const known = kernelDiffs.get(winograd);
    if (known !== undefined) return known;
    const d = maxDiff(await kernelRaw(shipped, simd, size, rangeMax, { winograd }));
    kernelDiffs.set(winograd, d);
    return d;
  };
  const out: VariantResult[] = [];
  for (const spec of variantSpecs(size, ctx.threads)) {
    if (only && !only.includes(spec.name)) continue;
    const threads = spec.threads ?? ctx.threads;
    const workers = spec.workers ?? 1;
    ctx.log(`${id} ${size}² raw: ${spec.name}`);
    try {
      const times = await ctx.page.call('raw', {
        modelUrl: spec.unrewritten ? `/data/${unrewrittenName}` : modelUrl(m),
        kernels: spec.kernels,
        size,
        rangeMax,
        runs: ctx.runs,
        threads,
        session: spec.session,
        workers,
        overlap: m.tileMargin,
      });
      out.push({
        model: id,
        size,
        name: spec.name,
        description: spec.description,
        threads,
        workers,
        wall: stat(times),
        reference: spec.reference ?? 'baseline',
        maxDiff255: spec.unrewritten
          ? 0
          : spec.kernels
            ? await kernelDiff(spec.kernels === true || spec.kernels.winograd !== false)
            : shippedDiff,
      });
    } catch (error) {
      ctx.log(`  failed: ${(error as Error).message}`);
    }
  }
  return out;
}
