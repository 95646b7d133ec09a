/** The bench's outputs: a console summary, bench/results.json and BENCHMARKS.md. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import type { PageInfo } from '../page/protocol.ts';
import { fmt, fmtStat, type Stat } from './stats.ts';
import type { GendrStages } from './gendr.ts';
import {
  realEsrganGoals,
  realEsrganSection,
  type RealEsrganResults,
} from './real-esrgan-report.ts';
import type { CpuEngine } from '../page/protocol.ts';
import {
  bestPeer,
  type AppFigures,
  type HeadToHead,
  type MemoryReport,
  type EngineOverhead,
  type Overhead,
  type VariantResult,
} from './suites.ts';

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
  /** Suites not measured in this run, carried over from an earlier one (--keep-others). */
  carried?: { suites: Record<string, string> };
  /** Absent in results written before the Real-ESRGAN suite existed. */
  realEsrgan?: RealEsrganResults;
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

export interface Goal {
  goal: string;
  measured: string;
  /** null: a reference figure, not a goal. */
  met: boolean | null;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function goals(r: BenchResults): Goal[] {
  const out: Goal[] = [];
  for (const h of r.headToHead) {
    const k = h.appKernels.wall.median;
    const o = h.appOnnxruntime.wall.median;
    const nat = h.native.wall.median;
    const tfjs = h.peerWasm?.wall.median;
    const best = bestPeer(h);
    const what = `${h.model} ${h.size}², app worker on the kernels`;
    if (h.model === 'esrgan-medium-x4' && h.size === 256) {
      out.push({ goal: `${what} ≤ 625 ms`, measured: `${fmt(k)} ms`, met: k <= 625 });
    }
    out.push({
      goal: `${what}: ≥ 2x faster than UpscalerJS tfjs-WASM, ${h.peerWasm?.threads ?? h.threads} threads`,
      measured: tfjs === undefined ? 'peer failed' : x(tfjs / k),
      met: tfjs === undefined ? null : tfjs / k >= 2,
    });
    out.push({
      goal: `${what}: within 2x of onnxruntime-node, ${h.threads} threads`,
      measured: x(k / nat),
      met: k / nat <= 2,
    });
    out.push({
      goal: `${what}: ≥ 2x faster than UpscalerJS's best`,
      measured: x(best / k),
      met: Number.isFinite(best) ? best / k >= 2 : null,
    });
    out.push({
      goal: `${what}: within 1.5x of onnxruntime-node`,
      measured: x(k / nat),
      met: k / nat <= 1.5,
    });
    out.push({
      goal: `${h.model} ${h.size}², app worker on onnxruntime-web (reference)`,
      measured: `${fmt(o)} ms; ${tfjs === undefined ? 'n/a' : x(tfjs / o)} vs tfjs-WASM; ${x(o / nat)} native`,
      met: null,
    });
  }
  if (r.overhead) out.push(...overheadGoals(r.overhead));
  if (r.memory) out.push(...memoryGoals(r.memory));
  if (r.realEsrgan) {
    out.push(...realEsrganGoals(r.realEsrgan.headToHead));
    if (r.realEsrgan.overhead) out.push(...overheadGoals(r.realEsrgan.overhead));
    if (r.realEsrgan.memory) out.push(...memoryGoals(r.realEsrgan.memory));
  }
  return out;
}

export function overheadGoals(overhead: Overhead): Goal[] {
  const { kernels: k, onnxruntime: o, tileShare, tiles, size, model } = overhead;
  const limit = tileShare * 1.5;
  return [
    {
      goal: `pipeline overhead ${model} ${size}², app worker on the kernels ≤ 1.10`,
      measured: `${k.overhead.toFixed(3)} (session.run in the app ${k.runSpeedRatio.toFixed(2)}x the bench worker's time)`,
      met: k.overhead <= 1.1,
    },
    {
      goal: `first tile ${model} ${size}², app worker on the kernels ≤ 1.5 x one tile's share (1/${tiles} = ${pct(tileShare)})`,
      measured: `${pct(k.firstTileFraction)} of the total`,
      met: k.firstTileFraction <= limit,
    },
    {
      goal: `overhead and first tile ${model}, app worker on onnxruntime-web (reference)`,
      measured: `${o.overhead.toFixed(3)}; ${pct(o.firstTileFraction)}`,
      met: null,
    },
  ];
}

export function memoryGoals(m: MemoryReport): Goal[] {
  if (m.points.length < 2) return [];
  const first = m.points[0];
  const last = m.points[m.points.length - 1];
  const pixels = (last.size / first.size) ** 2;
  const growth = (engine: CpuEngine) =>
    `${mb(first[engine].workerGrowth)} → ${mb(last[engine].workerGrowth)} for ${pixels.toFixed(0)}x the pixels; slope ${fmt(m.workerSlope[engine], 1)} B/input px`;
  return [
    {
      goal: `worker memory flat in image size (grows with the tile), ${m.model}, app worker on the kernels`,
      measured: growth('kernels'),
      met: last.kernels.workerGrowth / Math.max(1, first.kernels.workerGrowth) < 1.5,
    },
    {
      goal: `worker memory ${m.model}, app worker on onnxruntime-web (reference)`,
      measured: growth('onnxruntime'),
      met: null,
    },
  ];
}

const app = (a: AppFigures) => `${ms(a.wall)} (${a.threads} thr)`;

function headToHeadTable(r: BenchResults): string[] {
  const lines = [
    '| model, input | app worker, kernels | app worker, onnxruntime-web | UpscalerJS tfjs WASM, forced threads | UpscalerJS tfjs WASM, as documented | UpscalerJS default backend | native onnxruntime-node (same pipeline) | kernels: x faster than tfjs-WASM forced / x native | onnxruntime-web: x faster than tfjs-WASM forced / x native |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const h of r.headToHead) {
    const peerDefault = h.peerDefault
      ? h.peerDefault.error
        ? `failed: ${h.peerDefault.error}`
        : `${ms(h.peerDefault.wall)} (${h.peerDefault.backend}, 1 cold run, patch 128/pad 8)`
      : 'not run';
    const vs = (a: AppFigures) =>
      `${h.peerWasm ? x(h.peerWasm.wall.median / a.wall.median) : 'n/a'} / ${x(a.wall.median / h.native.wall.median)}`;
    lines.push(
      `| ${h.model}, ${h.size}² | **${app(h.appKernels)}** | ${app(h.appOnnxruntime)} | ${h.peerWasm ? `${ms(h.peerWasm.wall)} (${h.peerWasm.threads} thr)` : 'failed'} | ${h.peerWasmDefault ? `${ms(h.peerWasmDefault.wall)} (${h.peerWasmDefault.threads} thr)` : 'failed'} | ${peerDefault} | ${ms(h.native.wall)} (run ${ms(h.native.inference)}) | ${vs(h.appKernels)} | ${vs(h.appOnnxruntime)} |`,
    );
  }
  return lines;
}

function variantsTable(r: BenchResults): string[] {
  const lines = [
    '| model, input | variant | threads x workers | ms median (min–max) | x faster than | max diff (0–255) |',
    '|---|---|---|---|---|---|',
  ];
  for (const v of r.variants) {
    const ref = r.variants.find((b) => b.model === v.model && b.name === v.reference);
    const speed = !ref || ref === v ? '—' : `${x(ref.wall.median / v.wall.median)} ${v.reference}`;
    lines.push(
      `| ${v.model}, ${v.size}² | ${v.name}: ${v.description} | ${v.threads} x ${v.workers} | ${ms(v.wall)} | ${speed} | ${v.maxDiff255 === null ? 'n/a' : v.maxDiff255.toExponential(1)} |`,
    );
  }
  return lines;
}

function overheadSection(o: Overhead, heading: string): string[] {
  const line = (e: EngineOverhead, label: string) =>
    `- app worker on ${label}: wall ${ms(e.app.wall)} ms, of which session.run ${ms(e.appInference)} ms; **overhead ${e.overhead.toFixed(3)}** (per restore ${fmtStat(e.appRatio, 3)}); first tile after ${ms(e.app.firstTile)} ms = ${pct(e.firstTileFraction)} of the total. Bench worker, in pairs with these restores: session.run ${ms(e.inference)} ms, pipeline wall ${ms(e.pipelineWall)} ms; the app's session.run takes ${e.runSpeedRatio.toFixed(3)}x its time; app wall / its session.run ${e.crossOverhead.toFixed(3)}.`;
  return [
    `## ${heading}`,
    '',
    `${o.model}, ${o.size}² → ${o.size * 4}², ${o.tiles} tiles (one tile's share: ${pct(o.tileShare)}). Wall and first tile: the app's worker as the page sees them. Overhead = the restore's wall / the sum of session.run timed inside the app's worker in that same restore (median over restores): everything the app adds to inference, free of the machine's drift between runs. As a cross-check, the same job runs through the same engine pipeline and session in a bench worker, in pairs with the app's restores (order alternating), with session.run timed by the same wrapper.`,
    '',
    line(o.kernels, 'the kernels'),
    line(o.onnxruntime, 'onnxruntime-web (reference)'),
    '',
  ];
}

function memorySection(m: MemoryReport, heading: string): string[] {
  return [
    `## ${heading}`,
    '',
    `${m.model}, x4, one restore through the app's worker in a fresh page (model load included), once on the kernels and once on onnxruntime-web (each in its own fresh page). Renderer = page + worker (Chromium runs dedicated workers in the page's process): growth of the peak resident memory (VmHWM, reset just before) of the renderer that grew most, over its resident memory before the restore. Page = the output RGBA it keeps + its JS heap growth. Worker = renderer − page.${m.note ? ` ${m.note}.` : ''}`,
    '',
    '| input | tiles | kernels: renderer peak growth | kernels: page | kernels: worker | onnxruntime-web: renderer | onnxruntime-web: worker |',
    '|---|---|---|---|---|---|---|',
    ...m.points.map(
      (p) =>
        `| ${p.size}² | ${p.tiles} | ${mb(p.kernels.rendererGrowth)} | ${mb(p.kernels.pageGrowth)} | **${mb(p.kernels.workerGrowth)}** | ${mb(p.onnxruntime.rendererGrowth)} | ${mb(p.onnxruntime.workerGrowth)} |`,
    ),
    '',
    `Slope (least squares), bytes per input pixel: worker on the kernels ${fmt(m.workerSlope.kernels, 1)}, on onnxruntime-web ${fmt(m.workerSlope.onnxruntime, 1)}; page ${fmt(m.pageSlope, 1)} (the x4 RGBA output alone is 64).`,
    '',
  ];
}

export function markdown(r: BenchResults, experiments: string | null): string {
  const e = r.environment;
  const out: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/driver/main.ts) on ${r.date}${r.quick ? ' — QUICK smoke run, tiny inputs: not real figures' : ''}.`,
    ...(r.carried && Object.keys(r.carried.suites).length
      ? [
          `Not measured in this run, carried over from earlier runs (\`--keep-others\`): ${Object.entries(
            r.carried.suites,
          )
            .map(([suite, date]) => `${suite} (${date})`)
            .join(', ')}. Every comparison below is between figures of one run.`,
        ]
      : []),
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
      (g) => `| ${g.goal} | ${g.measured} | ${g.met === null ? '—' : g.met ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Against UpscalerJS and native onnxruntime',
    '',
    'Same weights (UpscalerJS ESRGAN npm packages; ours converted to ONNX), same photo, one Chromium.',
    '"App worker" is the app\'s own worker (workers/restore/restore.worker.ts via src/lib/restore-client.ts) on WASM, run twice on the same page:',
    "with `cpuEngine: 'kernels'` (the hand-written WASM SIMD kernels: what users get, and what the goals judge) and with `cpuEngine: 'onnxruntime'` (onnxruntime-web, the reference path);",
    "each run's RestoreResult must report the engine asked for. Wall time from the call until the result, tiles streamed to the page and pasted into one RGBA buffer as the app does.",
    'UpscalerJS runs on the page with `output: "tensor"` and is timed until its data is read back.',
    'Native is the same engine pipeline (engine/upscale.ts, as the CLI runs it) on onnxruntime-node with the same model file.',
    '',
    ...headToHeadTable(r),
    '',
  ];
  if (r.overhead)
    out.push(...overheadSection(r.overhead, 'Pipeline overhead and time to first tile'));
  if (r.memory) out.push(...memorySection(r.memory, 'Memory against image size'));
  if (r.realEsrgan) {
    out.push(...realEsrganSection(r.realEsrgan.headToHead));
    if (r.realEsrgan.overhead)
      out.push(
        ...overheadSection(r.realEsrgan.overhead, 'Real-ESRGAN: pipeline overhead and first tile'),
      );
    if (r.realEsrgan.memory)
      out.push(...memorySection(r.realEsrgan.memory, 'Real-ESRGAN: memory against image size'));
  }
  if (r.variants.length) {
    out.push(
      '## Runtime variants',
      '',
      "One untiled session.run in a bench worker per variant: onnxruntime-web's WASM build (the app's) on model.onnx unless said otherwise, or the hand-written kernels. Max diff: against the un-rewritten conversion on onnxruntime-node, same input.",
      '',
      ...variantsTable(r),
      '',
    );
  }
  if (r.gendr?.length) {
    out.push(
      '## GenDR pipeline per stage',
      '',
      'engine/latent/pipeline.ts (runPack, automatic tiling) on onnxruntime-node with the same thread count; ms per stage.',
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
  if (r.headToHead.length) {
    const med = (s: Stat | undefined) => (s?.n ? Math.round(s.median) : 'n/a');
    console.table(
      r.headToHead.map((h) => ({
        model: `${h.model} ${h.size}²`,
        'app kernels ms': med(h.appKernels.wall),
        'app onnxruntime-web ms': med(h.appOnnxruntime.wall),
        [`tfjs-WASM ${h.peerWasm?.threads ?? '?'} thr ms`]: med(h.peerWasm?.wall),
        [`native ${h.threads} thr ms`]: med(h.native.wall),
      })),
    );
  }
  console.table(
    goals(r).map((g) => ({
      goal: g.goal,
      measured: g.measured,
      met: g.met === null ? '—' : g.met ? 'yes' : 'NO',
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
    '../experiments.md',
  );
  const experiments = existsSync(experimentsFile) ? await readFile(experimentsFile, 'utf8') : null;
  const md = path.join(outDir, 'BENCHMARKS.md');
  await writeFile(md, await formatted(md, markdown(r, experiments)));
}
