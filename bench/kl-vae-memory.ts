/**
 * Peak memory of the seam-free KL decoder (engine/latent/kl-vae/segmented-decode.ts) in Chromium
 * on WASM, for GenDR's VAE (ostris/vae-kl-f8-d16's config, full width, seeded random weights, a
 * VAE pack as `gendr-web convert sd-vae` builds it), decoding latents of several sizes with the
 * same decoder tile: the renderer's peak should follow the tile, not the image.
 *
 *   npx tsx bench/kl-vae-memory.ts [--sizes 32,64,128] [--tile auto|32] [--mode exact|fast]
 *        [--max-runs N] [--pack <dir>] [--mid chunked|whole] [--stats core-moments|input]
 *
 * --tile auto (the default) takes the decoder tile the restore worker's automatic tiling gives
 * the pack on WASM (engine/latent/tiling-plan.ts with its default WASM limits). --mid whole builds
 * the pack with the whole mid graphs packs had before the chunked attention, --stats input with
 * the up graph returning every norm's whole input as packs had before core moments (both ignored
 * with --pack).
 *
 * Each size runs in a fresh Chromium (so a fresh renderer): the pack is loaded onto
 * onnxruntime-web's WASM backend through the engine's loadPack (every graph of the pack, as the
 * restore worker loads it) in the latent harness page (e2e/latent-harness.ts), then
 * decodeSegmented runs on a synthetic latent. The restore worker runs in the renderer process
 * too, so the renderer's resident memory is the figure: its RSS before loading, after loading,
 * and its high-water mark (VmHWM, reset after loading) during the decode, sampled from /proc.
 *
 * Every session run of one decode has the same shapes (the mid graph once on the whole latent,
 * then the up graph on equal tiles, pass after pass), so --max-runs N stops after N runs (the mid
 * graph and N − 1 tiles) and still sees the decode's peak, in minutes instead of hours on a
 * 2-core machine: an exact decode makes (norms + 1) = 26 passes of the up graph over every tile.
 * The figures say how many runs they cover. The mid graph counts as one run in either form: the
 * whole graph of older packs (its attention's N × N scores in one run) or the chunked form the
 * builder writes now (pre, the attention over chunks of query rows, post;
 * engine/latent/kl-vae/chunked-attention.ts); the table says which ran, in how many session
 * runs, and its seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { presetVaeConfig } from '../tools/builder/presets/index.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { addSegmentedVaeToPack } from '../tools/builder/architectures/sd-vae/segmented.ts';
import { RandomWeightSource } from '../tools/builder/random-weights.ts';
import { writeSdVaePack } from '../tools/builder/sd-pack.ts';
import { startLatentServer } from '../e2e/latent-server.ts';
import { parsePackManifest } from '../engine/latent/manifest.ts';
import { resolveTiling } from '../engine/latent/tiling-plan.ts';
import { packDeviceLimits } from '../workers/restore/packs/pack-limits.ts';
import {
  CHROMIUM_ARGS,
  chromiumPath,
  processMemory,
  rendererPids,
  resetPeak,
} from './driver/chromium.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '32,64,128' },
    tile: { type: 'string', default: 'auto' },
    mode: { type: 'string', default: 'exact' },
    'max-runs': { type: 'string' },
    pack: { type: 'string' },
    mid: { type: 'string', default: 'chunked' },
    stats: { type: 'string', default: 'core-moments' },
    out: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const mode = values.mode === 'fast' ? 'fast' : 'exact';
const maxRuns = values['max-runs'] ? Number(values['max-runs']) : undefined;
const MiB = 1024 ** 2;
const mib = (b: number) => Math.round(b / MiB);

let packDir = values.pack;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kl-memory-'));
if (!packDir) {
  packDir = path.join(scratch, 'vae16');
  const config = presetVaeConfig('gendr');
  writeSdVaePack({ random: true, seed: 16 }, config, packDir, { precision: 'fp32', scale: 1 });
  const midForm = values.mid === 'whole' ? 'whole' : 'chunked';
  const statsForm = values.stats === 'input' ? 'input' : 'core-moments';
  if (midForm === 'whole' || statsForm === 'input') {
    // The segmented forms again, in the older forms asked for (with whole mid graphs, the
    // chunked ones are dropped from the list below).
    const weights = new RandomWeightSource(vaeTensorSpecs(planVae(config)), 16);
    addSegmentedVaeToPack(packDir, weights, config, {
      precision: 'fp32',
      form: 'plain',
      midForm,
      statsForm,
    });
  }
  if (midForm === 'whole') {
    const file = path.join(packDir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const p of Object.keys(m.files))
      if (/\/mid_(pre|attention|post)\./.test(p)) delete m.files[p];
    fs.writeFileSync(file, JSON.stringify(m, null, 2));
  }
}
const manifest = JSON.parse(fs.readFileSync(path.join(packDir, 'manifest.json'), 'utf8'));
const packBytes = Object.values(manifest.files as Record<string, { bytes: number }>).reduce(
  (s, f) => s + f.bytes,
  0,
);
const tile =
  values.tile === 'auto'
    ? resolveTiling(parsePackManifest(manifest), undefined, packDeviceLimits({ backend: 'wasm' }))
        .decoder.tile
    : Number(values.tile);
console.error(
  `pack ${manifest.id}: ${mib(packBytes)} MiB of graphs; decoder tile ${tile} (${values.tile}), ` +
    `stats ${manifest.vae.segmentedDecoder?.stats ?? 'input'}`,
);

const server = await startLatentServer();
const packUrl = await server.addPack('vae16', packDir);

interface Row {
  latent: number;
  output: number;
  tile: number;
  tiles: number;
  attention: string;
  midRuns: number;
  midSeconds: number;
  runs: number;
  total: number;
  complete: boolean;
  seconds: number;
  rssBeforeMiB: number;
  rssLoadedMiB: number;
  peakMiB: number;
  peakOverLoadedMiB: number;
}
const rows: Row[] = [];

try {
  for (const size of sizes) {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    try {
      const cdp = await browser.newBrowserCDPSession();
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
      await page.goto(server.url);
      await page.waitForFunction(() => 'latentHarness' in window, undefined, { timeout: 60_000 });
      // Every renderer is watched (the largest is the harness's; the others are idle).
      const pids = await rendererPids(cdp);
      const rss = async () =>
        Math.max(...(await Promise.all(pids.map(async (p) => (await processMemory(p))?.rss ?? 0))));
      const before = await rss();
      await page.evaluate((p) => window.latentHarness.klLoad({ pack: p }), packUrl);
      const loaded = await rss();
      for (const p of pids) await resetPeak(p);
      console.error(`latent ${size}²: decoding (tile ${tile}, ${mode}) …`);
      const t0 = performance.now();
      const r = await page.evaluate((j) => window.latentHarness.klDecode(j), {
        size,
        tile,
        mode,
        maxRuns,
      } as const);
      const seconds = (performance.now() - t0) / 1000;
      const peak = Math.max(
        ...(await Promise.all(pids.map(async (p) => (await processMemory(p))?.peak ?? 0))),
      );
      const row: Row = {
        latent: size,
        output: size * 8,
        tile,
        tiles: r.tiles,
        attention: r.attention,
        midRuns: r.midRuns,
        midSeconds: Math.round(r.midMs / 100) / 10,
        runs: r.runs,
        total: r.total,
        complete: r.complete,
        seconds: Math.round(seconds),
        rssBeforeMiB: mib(before),
        rssLoadedMiB: mib(loaded),
        peakMiB: mib(Math.max(peak, loaded)),
        peakOverLoadedMiB: mib(Math.max(0, peak - loaded)),
      };
      rows.push(row);
      console.error(JSON.stringify(row));
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}

const table = [
  '| latent | output | tiles of ' +
    tile +
    ' | mid attention (session runs) | mid s | runs made / of the decode | s | renderer before load | after load | peak during decode | peak − loaded |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.latent}² | ${r.output}² | ${r.tiles} | ${r.attention} (${r.midRuns}) | ${r.midSeconds} | ${r.runs} / ${r.total} | ${r.seconds} | ${r.rssBeforeMiB} MiB | ${r.rssLoadedMiB} MiB | ${r.peakMiB} MiB | ${r.peakOverLoadedMiB} MiB |`,
  ),
].join('\n');
console.log(table);
if (values.out) fs.writeFileSync(values.out, JSON.stringify({ mode, tile, rows }, null, 2));
