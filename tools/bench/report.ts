/** The bench's outputs: a console summary, bench/results.json and BENCHMARKS.md. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import type { PageInfo } from '../../bench/page/protocol.ts';
import { fmt, fmtStat, type Stat } from './stats.ts';
import type { GendrStages } from './gendr.ts';
import type { HeadToHead, MemoryReport, Overhead, VariantResult } from './suites.ts';

export interface Environment {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  chromium: string;
  packages: Record<string, string>;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  runs: number;
  threads: number;
  input: string;
  environment: Environment;
  pageInfo: PageInfo | null;
  headToHead: HeadToHead[];
  overhead: Overhead | null;
  memory: MemoryReport | null;
  variants: VariantResult[];
  gendr: GendrStages[];
  loadAverage: { before: number[]; after: number[] };
}

const PACKAGES = [
  'onnxruntime-web',
  'onnxruntime-node',
  'upscaler',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  'playwright-core',
  'vite',
];

export async function environment(repoRoot: string, chromium: string): Promise<Environment> {
  const packages: Record<string, string> = {};
  for (const name of PACKAGES) {
    const file = path.join(repoRoot, 'node_modules', name, 'package.json');
    if (existsSync(file))
      packages[name] = (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium,
    packages,
  };
}

const ms = (s: Stat) => fmtStat(s);
const x = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(digits)}x`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

export function goals(r: BenchResults): Goal[] {
  const out: Goal[] = [];
  for (const h of r.headToHead) {
    if (h.oursKernels) {
      const k = h.oursKernels.wall.median;
      const best = Math.min(
        ...[h.peerWasm, h.peerWasmDefault].flatMap((p) => (p ? [p.wall.median] : [])),
        ...(h.peerDefault?.wall.n ? [h.peerDefault.wall.median] : []),
      );
      const vsNative = k / h.native.wall.median;
      out.push({
        goal: `${h.model} ${h.size}², engine pipeline on the hand-written kernels: ≥ 2x faster than UpscalerJS's best`,
        measured: x(best / k),
        met: best / k >= 2,
      });
      out.push({
        goal: `${h.model} ${h.size}², engine pipeline on the hand-written kernels: within 2x of native`,
        measured: x(vsNative),
        met: vsNative <= 2,
      });
      if (h.model === 'esrgan-medium-x4' && h.size === 256) {
        out.push({
          goal: 'esrgan-medium-x4 256², engine pipeline on the hand-written kernels ≤ 625 ms (issue 9)',
          measured: `${fmt(k)} ms`,
          met: k <= 625,
        });
      }
    }
    const peerWasm = h.peerWasm?.wall.median;
    out.push({
      goal: `${h.model} ${h.size}²: ≥ 2x faster than UpscalerJS's best (issue 7)`,
      measured: x(h.speedupVsPeer),
      met: h.speedupVsPeer === null ? null : h.speedupVsPeer >= 2,
    });
    if (peerWasm !== undefined) {
      const s = peerWasm / h.ours.wall.median;
      out.push({
        goal: `${h.model} ${h.size}²: ≥ 2x faster than tfjs-WASM ${h.threads} threads (issue 9)`,
        measured: x(s),
        met: s >= 2,
      });
    }
    out.push({
      goal: `${h.model} ${h.size}²: within 1.5x of native (issue 7)`,
      measured: x(h.ratioToNative),
      met: h.ratioToNative <= 1.5,
    });
    out.push({
      goal: `${h.model} ${h.size}²: within 2x of native (issue 9)`,
      measured: x(h.ratioToNative),
      met: h.ratioToNative <= 2,
    });
    if (h.model === 'esrgan-medium-x4' && h.size === 256) {
      out.push({
        goal: 'esrgan-medium-x4 256² through the worker pipeline ≤ 625 ms (issue 9)',
        measured: `${fmt(h.ours.wall.median)} ms`,
        met: h.ours.wall.median <= 625,
      });
    }
  }
  if (r.overhead) {
    const o = r.overhead;
    out.push({
      goal: `pipeline overhead ${o.size}² x4 ≤ 1.10`,
      measured: o.overhead.toFixed(3),
      met: o.overhead <= 1.1,
    });
    const limit = o.tileShare * 1.5;
    out.push({
      goal: `first tile ≤ 1.5 x one tile's share (1/${o.tiles} = ${(o.tileShare * 100).toFixed(1)}%)`,
      measured: `${(o.firstTileFraction * 100).toFixed(1)}% of the total`,
      met: o.firstTileFraction <= limit,
    });
    if (o.kernels) {
      out.push({
        goal: `pipeline overhead ${o.size}² x4 on the hand-written kernels ≤ 1.10`,
        measured: o.kernels.overhead.toFixed(3),
        met: o.kernels.overhead <= 1.1,
      });
      out.push({
        goal: `first tile on the hand-written kernels ≤ 1.5 x one tile's share`,
        measured: `${(o.kernels.firstTileFraction * 100).toFixed(1)}% of the total`,
        met: o.kernels.firstTileFraction <= limit,
      });
    }
  }
  if (r.memory && r.memory.points.length > 1) {
    const m = r.memory;
    const first = m.points[0];
    const last = m.points[m.points.length - 1];
    const growth = last.workerGrowth / Math.max(1, first.workerGrowth);
    const pixels = (last.size / first.size) ** 2;
    out.push({
      goal: 'worker memory flat in image size (grows with the tile)',
      measured: `${mb(first.workerGrowth)} → ${mb(last.workerGrowth)} for ${pixels.toFixed(0)}x the pixels; slope ${fmt(m.workerSlope, 1)} B/input px`,
      met: growth < 1.5,
    });
  }
  return out;
}

function headToHeadTable(r: BenchResults): string[] {
  const lines = [
    '| model, input | ours: app worker (onnxruntime-web) | ours: engine pipeline on hand-written kernels | UpscalerJS tfjs WASM, forced threads | UpscalerJS tfjs WASM, as documented | UpscalerJS default backend | native onnxruntime-node (same pipeline) | app vs peer | app vs native |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const h of r.headToHead) {
    const peerDefault = h.peerDefault
      ? h.peerDefault.error
        ? `failed: ${h.peerDefault.error}`
        : `${ms(h.peerDefault.wall)} (${h.peerDefault.backend}, 1 cold run, patch 128/pad 8)`
      : 'not run';
    lines.push(
      `| ${h.model}, ${h.size}² | ${ms(h.ours.wall)} (${h.ours.backend}, ${h.ours.threads} thr) | ${h.oursKernels ? `${ms(h.oursKernels.wall)} (${h.oursKernels.threads} thr)` : 'not built'} | ${h.peerWasm ? `${ms(h.peerWasm.wall)} (${h.peerWasm.threads} thr)` : 'failed'} | ${h.peerWasmDefault ? `${ms(h.peerWasmDefault.wall)} (${h.peerWasmDefault.threads} thr)` : 'failed'} | ${peerDefault} | ${ms(h.native.wall)} (run ${ms(h.native.inference)}) | ${x(h.speedupVsPeer)} | ${x(h.ratioToNative)} |`,
    );
  }
  return lines;
}

function variantsTable(r: BenchResults): string[] {
  const lines = [
    '| model, input | variant | threads x workers | ms median (min–max) | vs baseline | max diff (0–255) |',
    '|---|---|---|---|---|---|',
  ];
  for (const v of r.variants) {
    const base = r.variants.find((b) => b.model === v.model && b.name === 'baseline');
    const speed = base ? base.wall.median / v.wall.median : NaN;
    lines.push(
      `| ${v.model}, ${v.size}² | ${v.name}: ${v.description} | ${v.threads} x ${v.workers} | ${ms(v.wall)} | ${x(speed)} | ${v.maxDiff255 === null ? 'n/a' : v.maxDiff255.toExponential(1)} |`,
    );
  }
  return lines;
}

export function markdown(r: BenchResults, experiments: string | null): string {
  const e = r.environment;
  const out: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (tools/bench/main.ts) on ${r.date}${r.quick ? ' — QUICK smoke run, tiny inputs: not real figures' : ''}.`,
    'Every figure is the median of the runs after one warm-up run, with min–max; wall times are milliseconds.',
    'How to run and read it: docs/bench.md.',
    '',
    '## Machine',
    '',
    `- CPU: ${e.cpu}, ${e.cores} cores; ${e.memoryGiB} GiB; ${e.os}`,
    `- Node ${e.node}; Chromium ${e.chromium} (headless; ${r.pageInfo?.crossOriginIsolated ? 'cross-origin isolated' : 'NOT isolated'}, hardwareConcurrency ${r.pageInfo?.hardwareConcurrency ?? '?'}, WebGPU adapter: ${r.pageInfo?.webgpuAdapter ?? 'none'})`,
    `- ${Object.entries(e.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `- Runs: ${r.runs} (+1 warm-up); threads: ${r.threads}; input: ${r.input}`,
    `- Load average (1/5/15 min) before: ${r.loadAverage.before.map((v) => v.toFixed(2)).join(' / ')}, after: ${r.loadAverage.after.map((v) => v.toFixed(2)).join(' / ')}${r.loadAverage.before[0] > 0.5 ? ' — the machine was shared while measuring: compare figures within this run, not across runs' : ''}`,
    '',
    '## Goals',
    '',
    '| goal | measured | met |',
    '|---|---|---|',
    ...goals(r).map(
      (g) => `| ${g.goal} | ${g.measured} | ${g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Against UpscalerJS and native onnxruntime',
    '',
    'Same weights (UpscalerJS ESRGAN npm packages; ours converted to ONNX), same photo, one Chromium.',
    '"Ours" is the app\'s own worker (workers/restore.worker.ts via src/lib/restore-client.ts), backend "auto",',
    'wall time from the call until the result, tiles pasted into one RGBA buffer on the page as the app does.',
    'UpscalerJS runs on the page with `output: "tensor"` and is timed until its data is read back.',
    'Native is the same engine pipeline (workers/engine/upscale.ts, as the CLI runs it) on onnxruntime-node.',
    '',
    ...headToHeadTable(r),
    '',
  ];
  if (r.overhead) {
    const o = r.overhead;
    out.push(
      '## Pipeline overhead and time to first tile',
      '',
      `${o.model}, ${o.size}² → ${o.size * 4}², ${o.tiles} tiles, engine pipeline in the bench worker (same engine and ORT build as the app's worker) with every session.run timed:`,
      '',
      `- wall ${ms(o.wall)} ms; sum of session.run ${ms(o.inference)} ms; **overhead ${o.overhead.toFixed(3)}**`,
      `- first tile on the page after ${ms(o.firstTile)} ms = ${(o.firstTileFraction * 100).toFixed(1)}% of the total (one tile's share: ${(o.tileShare * 100).toFixed(1)}%)`,
      `- the app's own worker on the same job: wall ${ms(o.app.wall)} ms, first tile ${ms(o.app.firstTile)} ms, ${o.app.tiles} tiles`,
      ...(o.kernels
        ? [
            `- the same job on the hand-written kernels: wall ${ms(o.kernels.wall)} ms; sum of session.run ${ms(o.kernels.inference)} ms; overhead ${o.kernels.overhead.toFixed(3)}; first tile ${ms(o.kernels.firstTile)} ms = ${(o.kernels.firstTileFraction * 100).toFixed(1)}%`,
          ]
        : []),
      '',
    );
  }
  if (r.memory) {
    const m = r.memory;
    out.push(
      '## Memory against image size',
      '',
      `${m.model}, x4, one restore in a fresh page (model load included). Renderer = page + worker (Chromium runs dedicated workers in the page's process): growth of the peak resident memory (VmHWM, reset just before) of the renderer that grew most, over its resident memory before the restore. Page = the output RGBA it keeps + its JS heap growth. Worker = renderer − page. The last column is the same restore through the engine pipeline on the hand-written kernels, measured the same way in the same page, after the app's restore.${m.note ? ` ${m.note}.` : ''}`,
      '',
      '| input | tiles | renderer peak growth | page | worker | worker on the hand-written kernels |',
      '|---|---|---|---|---|---|',
      ...m.points.map(
        (p) =>
          `| ${p.size}² | ${p.tiles} | ${mb(p.rendererGrowth)} | ${mb(p.pageGrowth)} | ${mb(p.workerGrowth)} | ${p.kernelsWorkerGrowth === null ? 'not built' : mb(p.kernelsWorkerGrowth)} |`,
      ),
      '',
      `Slope (least squares): worker ${fmt(m.workerSlope, 1)} bytes per input pixel, page ${fmt(m.pageSlope, 1)} bytes per input pixel (the x4 RGBA output alone is 64).`,
      '',
    );
  }
  if (r.variants.length) {
    out.push(
      '## Runtime variants (issue 9)',
      '',
      "One untiled session.run in a bench worker with onnxruntime-web's WASM build (the app's), per variant. Max diff: against the unmodified model on onnxruntime-node, same input.",
      '',
      ...variantsTable(r),
      '',
    );
  }
  if (r.gendr?.length) {
    out.push(
      '## GenDR pipeline per stage',
      '',
      'workers/engine/latent/pipeline.ts (runPack, automatic tiling) on onnxruntime-node with the same thread count; ms per stage.',
      '',
      '| pack | input → output | total | stages (runs: ms) |',
      '|---|---|---|---|',
      ...r.gendr.map(
        (g) =>
          `| ${g.pack} | ${g.input} → ${g.output} | ${ms(g.total)} | ${g.stages.map((s) => `${s.stage} (${s.runs}): ${ms(s.ms)}`).join('; ')} |`,
      ),
      '',
    );
  }
  if (experiments) out.push(experiments.trim(), '');
  return out.join('\n');
}

export function printSummary(r: BenchResults): void {
  console.log('');
  console.table(
    goals(r).map((g) => ({
      goal: g.goal,
      measured: g.measured,
      met: g.met === null ? 'n/a' : g.met ? 'yes' : 'NO',
    })),
  );
  if (r.variants.length) {
    console.table(
      r.variants.map((v) => ({
        model: v.model,
        variant: v.name,
        'threads x workers': `${v.threads}x${v.workers}`,
        'median ms': Math.round(v.wall.median),
      })),
    );
  }
}

/** Formats like the repository's Prettier config, so `npm run lint` accepts the written files. */
async function formatted(file: string, text: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

export async function writeReports(r: BenchResults, outDir: string): Promise<void> {
  await mkdir(path.join(outDir, 'bench'), { recursive: true });
  const json = path.join(outDir, 'bench/results.json');
  await writeFile(json, await formatted(json, JSON.stringify(r, null, 2)));
  const experimentsFile = path.join(
    path.dirname(new URL(import.meta.url).pathname),
    '../../bench/experiments.md',
  );
  const experiments = existsSync(experimentsFile) ? await readFile(experimentsFile, 'utf8') : null;
  const md = path.join(outDir, 'BENCHMARKS.md');
  await writeFile(md, await formatted(md, markdown(r, experiments)));
}
