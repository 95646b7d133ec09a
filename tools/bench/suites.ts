/**
 * The measurements of `npm run bench`, each returning plain data for results.json. All browser
 * figures come from one Chromium; native figures from this Node process.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltinModelManifest } from '../../workers/engine/models/builtin-manifest.ts';
import { planFor } from '../../workers/engine/upscale.ts';
import { applyExactRewrites } from '../esrgan/exact-rewrites.ts';
import { clone, decode, encode } from '../onnx/onnx-graph.ts';
import type { OrtSessionVariant } from '../../bench/page/protocol.ts';
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
  /** URL of the hand-written kernels' .wasm (relaxed SIMD), or null when they could not be built. */
  kernelsUrl: string | null;
  /** Path of the same kernels built without relaxed SIMD (for Node, which needs a flag for it). */
  kernelsSimdFile: string | null;
}

const modelUrl = (m: BuiltinModelManifest) => `/models/${m.id}/${m.file}`;
const modelPath = (ctx: BenchContext, m: BuiltinModelManifest) =>
  path.join(ctx.repoRoot, 'public/models', m.id, m.file);

// ---------------------------------------------------------------- peer and native (issue 7.1, 7.2)

export interface HeadToHead {
  model: string;
  size: number;
  threads: number;
  ours: { backend: string; threads: number; wall: Stat };
  /** The engine pipeline on the hand-written kernels (bench worker), when they are built. */
  oursKernels: { threads: number; wall: Stat; inference: Stat } | null;
  peerWasm: { threads: number | null; wall: Stat } | null;
  peerWasmDefault: { threads: number | null; wall: Stat } | null;
  peerDefault: { backend: string; wall: Stat; error?: string } | null;
  native: { wall: Stat; inference: Stat };
  /** Best peer wall / ours. */
  speedupVsPeer: number | null;
  /** Ours / native pipeline wall. */
  ratioToNative: number;
}

export async function headToHead(
  ctx: BenchContext,
  id: string,
  size: number,
  opts: { peerDefault: boolean; peerPatch?: number },
): Promise<HeadToHead> {
  const m = ctx.manifest(id);
  const image = ctx.input(size);
  ctx.log(`${id} ${size}²: our worker pipeline`);
  const ours = await ctx.page.call('app', { modelId: id, image, runs: ctx.runs, backend: 'auto' });
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
  let oursKernels: HeadToHead['oursKernels'] = null;
  if (ctx.kernelsUrl) {
    ctx.log(`${id} ${size}²: engine pipeline on the hand-written kernels, ${ctx.threads} threads`);
    const runs = await ctx.page.call('pipeline', {
      modelUrl: `/data/${await rewrittenModel(ctx, m)}`,
      kernelsUrl: ctx.kernelsUrl,
      image,
      runs: ctx.runs,
      scale: m.scale,
      inputRange: m.inputRange,
      overlap: m.tileMargin,
      threads: ctx.threads,
    });
    oursKernels = {
      threads: ctx.threads,
      wall: stat(runs.map((r) => r.wallMs)),
      inference: stat(runs.map((r) => r.inferenceMs)),
    };
  }
  ctx.log(`${id} ${size}²: onnxruntime-node, ${ctx.threads} threads, same pipeline`);
  const native = await nativePipeline(
    modelPath(ctx, m),
    m,
    ctx.inputFile(size),
    ctx.threads,
    ctx.runs,
  );
  const oursWall = stat(ours.map((r) => r.wallMs));
  const peerBest = Math.min(
    ...[peerWasm, peerWasmDefault].flatMap((p) =>
      p && p.length ? [stat(p.map((r) => r.wallMs)).median] : [],
    ),
    ...(peerDefault && peerDefault.wall.n ? [peerDefault.wall.median] : []),
  );
  const nativeWall = stat(native.map((r) => r.wallMs));
  return {
    model: id,
    size,
    threads: ctx.threads,
    ours: { backend: ours[0]?.backend ?? '?', threads: ours[0]?.threads ?? 0, wall: oursWall },
    oursKernels,
    peerWasm: peerWasm?.length
      ? { threads: peerWasm[0].threads, wall: stat(peerWasm.map((r) => r.wallMs)) }
      : null,
    peerWasmDefault: peerWasmDefault?.length
      ? { threads: peerWasmDefault[0].threads, wall: stat(peerWasmDefault.map((r) => r.wallMs)) }
      : null,
    peerDefault,
    native: { wall: nativeWall, inference: stat(native.map((r) => r.inferenceMs)) },
    speedupVsPeer: Number.isFinite(peerBest) ? peerBest / oursWall.median : null,
    ratioToNative: oursWall.median / nativeWall.median,
  };
}

// ------------------------------------------------------------- overhead and first tile (7.3, 7.5)

export interface Overhead {
  model: string;
  size: number;
  tiles: number;
  wall: Stat;
  inference: Stat;
  /** Median over runs of wall / sum of session.run. */
  overhead: number;
  firstTile: Stat;
  /** Median first-tile time / median wall. */
  firstTileFraction: number;
  /** One tile's share of the work: 1 / tiles. */
  tileShare: number;
  app: { wall: Stat; firstTile: Stat; tiles: number };
  /** The same job on the hand-written kernels (bench worker), when built. */
  kernels: {
    wall: Stat;
    inference: Stat;
    overhead: number;
    firstTile: Stat;
    firstTileFraction: number;
  } | null;
}

export async function overhead(ctx: BenchContext, id: string, size: number): Promise<Overhead> {
  const m = ctx.manifest(id);
  ctx.log(`${id} ${size}²: engine pipeline in the bench worker, session.run timed`);
  const runs = await ctx.page.call('pipeline', {
    modelUrl: modelUrl(m),
    image: ctx.input(size),
    runs: ctx.runs,
    scale: m.scale,
    inputRange: m.inputRange,
    overlap: m.tileMargin,
    threads: ctx.threads,
  });
  ctx.log(`${id} ${size}²: the app's worker`);
  const app = await ctx.page.call('app', {
    modelId: id,
    image: ctx.input(size),
    runs: ctx.runs,
    backend: 'auto',
  });
  let kernels: Overhead['kernels'] = null;
  if (ctx.kernelsUrl) {
    ctx.log(`${id} ${size}²: engine pipeline on the hand-written kernels, session.run timed`);
    const k = await ctx.page.call('pipeline', {
      modelUrl: `/data/${await rewrittenModel(ctx, m)}`,
      kernelsUrl: ctx.kernelsUrl,
      image: ctx.input(size),
      runs: ctx.runs,
      scale: m.scale,
      inputRange: m.inputRange,
      overlap: m.tileMargin,
      threads: ctx.threads,
    });
    const kWall = stat(k.map((r) => r.wallMs));
    const kFirst = stat(k.map((r) => r.firstTileMs));
    kernels = {
      wall: kWall,
      inference: stat(k.map((r) => r.inferenceMs)),
      overhead: stat(k.map((r) => r.wallMs / r.inferenceMs)).median,
      firstTile: kFirst,
      firstTileFraction: kFirst.median / kWall.median,
    };
  }
  const wall = stat(runs.map((r) => r.wallMs));
  const firstTile = stat(runs.map((r) => r.firstTileMs));
  const tiles = runs[0]?.tiles ?? 0;
  return {
    model: id,
    size,
    tiles,
    wall,
    inference: stat(runs.map((r) => r.inferenceMs)),
    overhead: stat(runs.map((r) => r.wallMs / r.inferenceMs)).median,
    firstTile,
    firstTileFraction: firstTile.median / wall.median,
    tileShare: 1 / Math.max(1, tiles),
    kernels,
    app: {
      wall: stat(app.map((r) => r.wallMs)),
      firstTile: stat(app.map((r) => r.firstTileMs)),
      tiles: app[0]?.tiles ?? 0,
    },
  };
}

// ------------------------------------------------------------------------ memory (issue 7.4)

export interface MemoryPoint {
  size: number;
  tiles: number;
  /** Renderer process (page + worker) peak RSS growth over its RSS before the restore, bytes. */
  rendererGrowth: number;
  /** Page's share: the output RGBA it keeps plus its JS heap growth, bytes. */
  pageGrowth: number;
  /** rendererGrowth - pageGrowth. */
  workerGrowth: number;
  /** The same restore on the hand-written kernels (engine pipeline, bench worker): renderer growth - page. */
  kernelsWorkerGrowth: number | null;
  wallMs: number;
}

export interface MemoryReport {
  model: string;
  points: MemoryPoint[];
  /** Bytes per input pixel (least squares over the points). */
  workerSlope: number;
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
  for (const size of sizes) {
    ctx.log(`${id} ${size}²: peak memory (fresh renderer)`);
    const page = await ctx.browser.open();
    try {
      await page.page.evaluate(() =>
        (window as unknown as { gendrBench: { info(): Promise<unknown> } }).gendrBench.info(),
      );
      const heap = () =>
        page.page.evaluate(
          () =>
            (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory
              ?.usedJSHeapSize ?? 0,
        );
      const outBytes = size * m.scale * (size * m.scale) * 4;
      // Which renderer hosts the page is not exposed: reset every renderer's peak, and take the one
      // that grew most during the restore (the other pages are idle meanwhile).
      const measure = async (restore: () => Promise<unknown>) => {
        const before = new Map<number, number>();
        for (const pid of await rendererPids(ctx.browser.cdp)) {
          const mem = await processMemory(pid);
          if (mem && (await resetPeak(pid))) before.set(pid, mem.rss);
        }
        const heapBefore = await heap();
        await restore();
        let renderer = 0;
        for (const [pid, rss] of before) {
          const mem = await processMemory(pid);
          if (mem) renderer = Math.max(renderer, mem.peak - rss);
        }
        if (before.size === 0) note = 'renderer memory not readable (/proc): figures are 0';
        const pageBytes = outBytes + Math.max(0, (await heap()) - heapBefore - outBytes);
        return { renderer, page: pageBytes };
      };
      // runs: 0 is just the warm-up run, which is the one measured here (it loads the model too).
      const app = await measure(() =>
        page.call('app', { modelId: id, image: ctx.input(size), runs: 0, backend: 'auto' }),
      );
      let kernelsWorkerGrowth: number | null = null;
      if (ctx.kernelsUrl) {
        const rewritten = await rewrittenModel(ctx, m);
        const k = await measure(() =>
          page.call('pipeline', {
            modelUrl: `/data/${rewritten}`,
            kernelsUrl: ctx.kernelsUrl ?? undefined,
            image: ctx.input(size),
            runs: 0,
            scale: m.scale,
            inputRange: m.inputRange,
            overlap: m.tileMargin,
            threads: ctx.threads,
          }),
        );
        kernelsWorkerGrowth = k.renderer - k.page;
      }
      const rendererGrowth = app.renderer;
      const pageGrowth = app.page;
      points.push({
        size,
        tiles: planFor(size, size, { overlap: m.tileMargin }).tiles.length,
        rendererGrowth,
        pageGrowth,
        workerGrowth: rendererGrowth - pageGrowth,
        kernelsWorkerGrowth,
        wallMs: NaN,
      });
    } finally {
      await page.close();
    }
  }
  const px = points.map((p) => p.size * p.size);
  return {
    model: id,
    points,
    workerSlope: linearFit(
      px,
      points.map((p) => p.workerGrowth),
    ).slope,
    pageSlope: linearFit(
      px,
      points.map((p) => p.pageGrowth),
    ).slope,
    note,
  };
}

// ----------------------------------------------------------- runtime variants (issue 9)

export interface VariantResult {
  model: string;
  size: number;
  name: string;
  description: string;
  threads: number;
  workers: number;
  wall: Stat;
  /** Max |output - baseline output| on the 0..255 scale (onnxruntime-node, same input). */
  maxDiff255: number | null;
}

interface VariantSpec {
  name: string;
  description: string;
  session?: OrtSessionVariant;
  rewrite?: boolean;
  threads?: number;
  workers?: number;
  kernels?: boolean;
}

/** Writes the exactly rewritten model to the data folder (once) and returns its file name. */
export async function rewrittenModel(ctx: BenchContext, m: BuiltinModelManifest): Promise<string> {
  const name = `${m.id}.rewritten.onnx`;
  const file = path.join(ctx.dataDir, name);
  const original = new Uint8Array(await readFile(modelPath(ctx, m)));
  const model = clone(decode(original));
  applyExactRewrites(model);
  await writeFile(file, encode(model));
  return name;
}

export function variantSpecs(size: number, threads: number): VariantSpec[] {
  const fixed = { freeDimensionOverrides: { height: size, width: size } };
  return [
    { name: 'baseline', description: "as the app runs it: graphOptimizationLevel 'all'" },
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
    {
      name: 'rewritten',
      description: 'exact rewrites (tools/perf/exact-rewrites.ts)',
      rewrite: true,
    },
    {
      name: 'rewritten+fixed',
      description: 'exact rewrites + fixed shape',
      rewrite: true,
      session: fixed,
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
        'hand-written WASM kernels (Winograd, relaxed SIMD, concat-free) on the rewritten graph',
      rewrite: true,
      kernels: true,
    },
    {
      name: 'kernels-1-thread',
      description: 'the same, one thread',
      rewrite: true,
      kernels: true,
      threads: 1,
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
  const original = new Uint8Array(await readFile(modelPath(ctx, m)));
  const rewrittenName = await rewrittenModel(ctx, m);
  const rewrittenBytes = new Uint8Array(await readFile(path.join(ctx.dataDir, rewrittenName)));
  const rangeMax = m.inputRange[1];
  const base = await nativeRaw(original, size, rangeMax, ctx.threads, 0);
  const rw = await nativeRaw(rewrittenBytes, size, rangeMax, ctx.threads, 0);
  const maxDiff = (out: Float32Array) => {
    let d = 0;
    for (let i = 0; i < base.output.length; i++) d = Math.max(d, Math.abs(base.output[i] - out[i]));
    return (d * 255) / rangeMax;
  };
  const rwDiff = maxDiff(rw.output);
  let kernelDiff: number | null = null;
  if (ctx.kernelsSimdFile) {
    const k = await kernelRaw(rewrittenBytes, await readFile(ctx.kernelsSimdFile), size, rangeMax);
    kernelDiff = maxDiff(k);
  }
  const out: VariantResult[] = [];
  for (const spec of variantSpecs(size, ctx.threads)) {
    if (only && !only.includes(spec.name)) continue;
    if (spec.kernels && !ctx.kernelsUrl) continue;
    const threads = spec.threads ?? ctx.threads;
    const workers = spec.workers ?? 1;
    ctx.log(`${id} ${size}² raw: ${spec.name}`);
    try {
      const times = await ctx.page.call('raw', {
        modelUrl: spec.rewrite ? `/data/${rewrittenName}` : modelUrl(m),
        kernelsUrl: spec.kernels ? (ctx.kernelsUrl ?? undefined) : undefined,
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
        maxDiff255: spec.kernels ? kernelDiff : spec.rewrite ? rwDiff : 0,
      });
    } catch (error) {
      ctx.log(`  failed: ${(error as Error).message}`);
    }
  }
  return out;
}
