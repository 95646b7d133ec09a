/**
 * Per-stage times of a pack in Chromium (WASM or WebGPU), for the numbers in docs/model-packs.md:
 *
 *   npx tsx bench/latent-bench.ts --pack <pack dir> [--size 256] [--backend wasm] [--runs 1]
 *
 * Default pack: TAEF2 (from the shared folder) with the identity UNet, built on the fly. Input: a
 * size² crop of chelsea.png (or a generated photo). Prints JSON with per-stage ms, the page's
 * peak JS heap and the browser processes' peak resident memory. Not a test: speed numbers only.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { writePack } from '../tools/builder/pack-dir.ts';
import { taesdPack, withTestUnet } from '../tools/builder/packs.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { crop, syntheticPhoto } from '../test/helpers/rgba-images.ts';
import { hasTaef2, taef2Weights } from '../test/helpers/latent-packs.ts';
import { hasShared, sharedPath } from '../test/helpers/shared.ts';
import { startLatentServer } from '../e2e/latent-server.ts';

const { values } = parseArgs({
  options: {
    pack: { type: 'string' },
    size: { type: 'string', default: '256' },
    backend: { type: 'string', default: 'wasm' },
    runs: { type: 'string', default: '1' },
  },
});
const size = Number(values.size);
const backend = values.backend as 'wasm' | 'webgpu';

async function inputImage() {
  if (!hasShared('images', 'chelsea.png')) return syntheticPhoto(size, size, 3);
  const photo = await decodeImage(sharedPath('images', 'chelsea.png'));
  const w = Math.min(size, photo.width);
  const h = Math.min(size, photo.height);
  return crop(photo, Math.floor((photo.width - w) / 2), Math.floor((photo.height - h) / 2), w, h);
}

/** Resident memory of this process's descendants (the browser), in bytes, from `ps`. */
function childrenRss(): number {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const inTree = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of rows) {
      if (inTree.has(ppid) && !inTree.has(pid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  return rows
    .filter(([pid]) => pid !== process.pid && inTree.has(pid))
    .reduce((sum, [, , rss]) => sum + rss * 1024, 0);
}

const server = await startLatentServer();
let packDir = values.pack;
if (!packDir) {
  if (!hasTaef2) throw new Error('no --pack and no TAEF2 weights in the shared folder');
  packDir = path.join(server.root, 'packs', 'taef2-identity');
  const vae = taesdPack(await taef2Weights(), {
    id: 'taef2-identity',
    name: 'TAEF2 + identity UNet',
    precision: 'fp32',
  });
  await writePack(packDir, withTestUnet(vae, { kind: 'identity' }));
}
const packUrl = values.pack ? await server.addPack('bench', packDir) : 'packs/taef2-identity/';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--enable-precise-memory-info'],
});
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => 'latentHarness' in window);
  const image = await inputImage();
  const job = {
    backend,
    pack: packUrl,
    image: { width: image.width, height: image.height, data: Array.from(image.data) },
  };
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, childrenRss());
  }, 250);
  const results = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const r = await page.evaluate((j) => window.latentHarness.run(j), job);
    results.push({
      ms: Math.round(r.ms),
      stages: r.stages.map((s) => ({ ...s, ms: Math.round(s.ms) })),
    });
  }
  clearInterval(sampler);
  const heap = await page.evaluate(
    () =>
      (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ??
      null,
  );
  console.log(
    JSON.stringify(
      {
        backend,
        input: `${image.width}x${image.height}`,
        pack: packUrl,
        results,
        peakBrowserRssBytes: peakRss,
        jsHeapBytes: heap,
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await server.close();
}
