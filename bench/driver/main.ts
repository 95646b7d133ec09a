/**
 * `npm run bench`: GenDR Web's app worker (on the hand-written kernels, as it ships, and on
 * onnxruntime-web) against UpscalerJS and native onnxruntime, pipeline overhead, memory against
 * image size, time to first tile, and the runtime variants (docs/bench.md), in one Chromium plus
 * this Node process. Prints a table and writes bench/results.json and BENCHMARKS.md.
 *
 *   node bin/run-ts.mjs bench/driver/main.ts [--runs 3] [--threads 2] [--suites a,b] [--no-webgl]
 *        [--quick] [--out DIR]
 *
 * --quick: tiny inputs and one run (the smoke test); results go to --out (default: a temp dir).
 * A reduced run at full size: --runs 1 --no-webgl --out DIR (never over the committed reports).
 * --report-only: rewrite BENCHMARKS.md from bench/results.json without measuring.
 * --keep-others: with --suites, keep the other suites' figures from the existing results.json
 *   (BENCHMARKS.md then says which suites were carried over, and from when).
 * Suites: peer, overhead, memory, variants, real-esrgan (head to head and variants),
 * real-esrgan-pipeline (its overhead and memory), gendr.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BuiltinModelIndex } from '../../engine/models/builtin-manifest.ts';
import { buildBenchPage } from './build-page.ts';
import { launchBench } from './chromium.ts';
import { makeInputs } from './inputs.ts';
import { environment, printSummary, writeReports, type BenchResults } from './report.ts';
import { startBenchServer } from './server.ts';
import { gendrStages } from './gendr.ts';
import { realEsrganHeadToHead } from './real-esrgan.ts';
import {
  headToHead,
  memory,
  overhead,
  variants,
  variantSpecs,
  type BenchContext,
} from './suites.ts';

/** Carries the suites this run did not measure over from an earlier results.json. */
async function keepOthers(r: BenchResults, file: string): Promise<void> {
  if (!existsSync(file)) return;
  const prev = JSON.parse(await readFile(file, 'utf8')) as BenchResults;
  const carried: Record<string, string> = {};
  const carry = (suite: string, apply: () => void) => {
    if (suites.has(suite)) return;
    apply();
    carried[suite] = prev.carried?.suites[suite] ?? prev.date;
  };
  carry('peer', () => (r.headToHead = prev.headToHead));
  carry('overhead', () => (r.overhead = prev.overhead));
  carry('memory', () => (r.memory = prev.memory));
  carry('gendr', () => (r.gendr = prev.gendr));
  carry('real-esrgan', () => {
    r.realEsrgan = {
      overhead: r.realEsrgan?.overhead ?? null,
      memory: r.realEsrgan?.memory ?? null,
      headToHead: prev.realEsrgan?.headToHead ?? [],
    };
  });
  carry('real-esrgan-pipeline', () => {
    r.realEsrgan = {
      headToHead: r.realEsrgan?.headToHead ?? [],
      overhead: prev.realEsrgan?.overhead ?? null,
      memory: prev.realEsrgan?.memory ?? null,
    };
  });
  carry('variants', () => {
    const measured = new Set(r.variants.map((v) => v.model));
    r.variants = [...prev.variants.filter((v) => !measured.has(v.model)), ...r.variants];
  });
  r.carried = { suites: carried };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    suites: {
      type: 'string',
      default: 'peer,overhead,memory,variants,real-esrgan,real-esrgan-pipeline,gendr',
    },
    'no-webgl': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
    'keep-others': { type: 'boolean', default: false },
  },
});

// --report-only: rewrite BENCHMARKS.md from an existing bench/results.json (e.g. after editing
// bench/experiments.md), measuring nothing.
if (values['report-only']) {
  const dir = values.out ?? repoRoot;
  const previous = JSON.parse(
    await readFile(path.join(dir, 'bench/results.json'), 'utf8'),
  ) as BenchResults;
  await writeReports(previous, dir);
  console.log(`[bench] rewrote ${path.join(dir, 'BENCHMARKS.md')} from bench/results.json`);
  process.exit(0);
}

const quick = values.quick;
const runs = quick ? 1 : Number(values.runs);
const threads = Number(values.threads);
const suites = new Set(values.suites.split(','));
const outDir =
  values.out ?? (quick ? await mkdtemp(path.join(os.tmpdir(), 'gendr-bench-')) : repoRoot);

const sizes = quick
  ? {
      medium: 24,
      thick: 16,
      overhead: 64,
      memory: [32, 48, 64],
      variants: 24,
      gendr: 32,
      general: 24,
      x4plus: 16,
      realOverhead: 64,
      realMemory: [32, 64],
    }
  : {
      medium: 256,
      thick: 128,
      overhead: 1024,
      memory: [256, 512, 1024],
      variants: 256,
      gendr: 256,
      general: 256,
      x4plus: 128,
      realOverhead: 1024,
      realMemory: [256, 512, 1024],
    };

const indexFile = path.join(repoRoot, 'public/models/index.json');
if (!existsSync(indexFile))
  throw new Error(`${indexFile} is missing: run \`npm run models\` first`);
const index = JSON.parse(await readFile(indexFile, 'utf8')) as BuiltinModelIndex;

const cache = path.join(repoRoot, 'node_modules/.cache/gendr-bench');
const pageDir = path.join(cache, 'page');
const dataDir = path.join(cache, 'data');
await mkdir(dataDir, { recursive: true });
const log = (line: string) => console.log(`[bench] ${line}`);

const loadBefore = os.loadavg();
log('building the bench page');
const pagePath = await buildBenchPage(repoRoot, pageDir);
const inputs = await makeInputs(dataDir, [
  sizes.medium,
  sizes.thick,
  sizes.overhead,
  ...sizes.memory,
  sizes.variants,
  sizes.general,
  sizes.x4plus,
  sizes.realOverhead,
  ...sizes.realMemory,
]);
const server = await startBenchServer({ repoRoot, pageDir, dataDir });
const browser = await launchBench(`${server.url}${pagePath}`);
const results: BenchResults = {
  date: new Date().toISOString(),
  quick,
  runs,
  threads,
  input: inputs.source,
  environment: await environment(repoRoot, browser.version),
  pageInfo: null,
  headToHead: [],
  overhead: null,
  memory: null,
  variants: [],
  gendr: [],
  loadAverage: { before: loadBefore, after: [] },
};

try {
  const page = await browser.open();
  results.pageInfo = await page.call('info');
  if (!results.pageInfo.crossOriginIsolated)
    throw new Error('the bench page is not cross-origin isolated');
  const ctx: BenchContext = {
    browser,
    page,
    repoRoot,
    dataDir,
    input: (size) => `/data/input-${size}.png`,
    inputFile: (size) => inputs.files.get(size) ?? '',
    manifest: (id) => {
      const m = index.models.find((x) => x.id === id);
      if (!m) throw new Error(`model ${id} is not built`);
      return m;
    },
    threads,
    runs,
    log,
  };
  const webgl = !quick && !values['no-webgl'];
  if (suites.has('peer')) {
    results.headToHead.push(
      await headToHead(ctx, 'esrgan-medium-x4', sizes.medium, {
        peerDefault: webgl,
        peerPatch: 128,
      }),
    );
    results.headToHead.push(
      await headToHead(ctx, 'esrgan-thick-x4', sizes.thick, { peerDefault: false }),
    );
  }
  if (suites.has('overhead'))
    results.overhead = await overhead(ctx, 'esrgan-medium-x4', sizes.overhead);
  if (suites.has('memory')) results.memory = await memory(ctx, 'esrgan-medium-x4', sizes.memory);
  if (suites.has('variants')) {
    results.variants.push(
      ...(await variants(ctx, 'esrgan-medium-x4', sizes.variants, [
        ...variantSpecs(sizes.variants, threads)
          .map((v) => v.name)
          .filter((n) => n !== 'kernels-simd128' && n !== 'kernels-direct'),
      ])),
    );
    results.variants.push(
      ...(await variants(ctx, 'esrgan-thick-x4', sizes.thick, [
        'unrewritten',
        'baseline',
        'fixed-shape',
        `${threads}-workers`,
        'kernels',
      ])),
    );
  }
  if (suites.has('real-esrgan')) {
    // --quick proves the paths on the compact net alone (x4plus and its peer take minutes).
    const headToHeadRows = [
      await realEsrganHeadToHead(ctx, 'realesr-general-x4v3', sizes.general, runs),
    ];
    // upscayl-bin takes over a minute per x4plus run on a CPU Vulkan driver: one run.
    if (!quick)
      headToHeadRows.push(await realEsrganHeadToHead(ctx, 'realesrgan-x4plus', sizes.x4plus, 1));
    results.realEsrgan = { headToHead: headToHeadRows, overhead: null, memory: null };
    const realVariants = ['unrewritten', 'baseline', 'kernels', 'kernels-1-thread'];
    results.variants.push(
      ...(await variants(ctx, 'realesr-general-x4v3', sizes.general, [
        ...realVariants,
        'kernels-simd128',
        'kernels-direct',
      ])),
    );
    if (!quick)
      results.variants.push(
        ...(await variants(ctx, 'realesrgan-x4plus', sizes.x4plus, [
          ...realVariants,
          'kernels-direct',
        ])),
      );
  }
  if (suites.has('real-esrgan-pipeline')) {
    results.realEsrgan = {
      headToHead: results.realEsrgan?.headToHead ?? [],
      overhead: await overhead(ctx, 'realesr-general-x4v3', sizes.realOverhead),
      memory: await memory(ctx, 'realesr-general-x4v3', sizes.realMemory),
    };
  }
} finally {
  await browser.close();
  await server.close();
}
if (suites.has('gendr')) {
  try {
    results.gendr = await gendrStages(inputs.files.get(sizes.gendr) ?? '', threads, runs, log);
  } catch (error) {
    log(`GenDR pipeline failed: ${(error as Error).message.split('\n')[0]}`);
  }
}
results.loadAverage.after = os.loadavg();
if (values['keep-others']) await keepOthers(results, path.join(outDir, 'bench/results.json'));
printSummary(results);
await writeReports(results, outDir);
log(`wrote ${path.join(outDir, 'bench/results.json')} and ${path.join(outDir, 'BENCHMARKS.md')}`);
