/**
 * Proof 3 of the latent pipeline issue: the tiny pack with GenDR's exact shapes (16 latent
 * channels, [1, 77, 1024] embedding, a small UNet with a real receptive field and cross-attention)
 * gives the same output on onnxruntime-node, in Chromium on WASM and in Chromium on WebGPU; and
 * the fp16 guard on an adapter without shader-f16 (SwiftShader).
 *
 * Self-contained: builds the packs, bundles e2e/latent-harness.ts with Vite and serves both (with
 * ORT's runtime files) from its own cross-origin-isolated server (e2e/latent-server.ts); it does
 * not need the app.
 */
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dirPackSource, writePack } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { loadPack } from '../engine/latent/pack-loader.ts';
import { runPack } from '../engine/latent/pipeline.ts';
import type { RgbaImage } from '../engine/image.ts';
import { syntheticPhoto } from '../test/helpers/rgba-images.ts';
import { startLatentServer, type LatentServer } from './latent-server.ts';
import type { HarnessRun } from './latent-harness.ts';

/** 16×16 → 64×64: WebGPU on SwiftShader is slow. Tiles small enough that every stage tiles. */
const INPUT = syntheticPhoto(16, 16, 11);
const TILING = {
  encoder: { tile: 32, overlap: 16 },
  unet: { tile: 8, overlap: 0 },
  decoder: { tile: 4, overlap: 2 },
};

let server: LatentServer;
const packs: Record<string, string> = {};
const reference: Record<string, RgbaImage> = {};

async function nodeRun(dir: string): Promise<RgbaImage> {
  const runtime = createOrtNodeRuntime({ intraOpNumThreads: 1 });
  const pack = await loadPack(dirPackSource(dir), runtime);
  try {
    return await runPack(pack.sessions, pack.manifest, INPUT, {
      tensors: runtime,
      embeddings: pack.embeddings,
      tiling: TILING,
    });
  } finally {
    await pack.release();
  }
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  server = await startLatentServer();
  for (const precision of ['fp32', 'fp16'] as const) {
    const dir = path.join(server.root, 'packs', precision);
    await writePack(dir, tinyGendrPack({ precision }));
    packs[precision] = `packs/${precision}/`;
    reference[precision] = await nodeRun(dir);
  }
});

test.afterAll(async () => server?.close());

async function openHarness(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page
    .waitForFunction(() => 'latentHarness' in window, undefined, { timeout: 30_000 })
    .catch(() => {
      throw new Error(`harness did not load: ${errors.join('; ')}`);
    });
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
}

async function browserRun(page: Page, job: Omit<HarnessRun, 'image'>) {
  const image = { width: INPUT.width, height: INPUT.height, data: Array.from(INPUT.data) };
  return page.evaluate((j) => window.latentHarness.run(j), { ...job, image });
}

function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

for (const backend of ['wasm', 'webgpu'] as const) {
  test(`tiny GenDR-shaped pack: Chromium ${backend} matches onnxruntime-node`, async ({ page }) => {
    test.setTimeout(300_000);
    await openHarness(page);
    const out = await browserRun(page, { backend, pack: packs.fp32, tiling: TILING });
    expect(out.backend).toBe(backend);
    expect([out.width, out.height]).toEqual([64, 64]);
    expect(out.tiles).toBeGreaterThan(1);
    const d = diffStats(out.data, reference.fp32.data);
    test.info().annotations.push({
      type: `${backend} vs node`,
      description: `max ${d.max}/255, mean ${d.mean.toFixed(3)}/255, ${out.ms.toFixed(0)} ms in the page`,
    });
    console.log(
      `tiny pack, ${backend} vs onnxruntime-node: max ${d.max}/255, mean ${d.mean.toFixed(4)}`,
    );
    expect(d.max).toBeLessThanOrEqual(2);
    expect(d.mean).toBeLessThan(0.1);
  });
}

test('fp16 pack on an adapter without shader-f16: guarded onto WASM, never WebGPU', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openHarness(page);
  const guard = await page.evaluate((p) => window.latentHarness.fp16Guard(p), packs.fp16);
  console.log(`adapter: ${guard.adapter.description} shader-f16=${guard.adapter.shaderF16}`);
  test.skip(
    guard.adapter.shaderF16,
    'this adapter has shader-f16: the guard has nothing to refuse',
  );
  expect(guard.choice.backend).toBe('wasm');
  expect(guard.choice.notice).toMatch(/shader-f16/);
  expect(guard.strict).toMatch(/^PackBackendError: .*lacks WebGPU shader-f16/);
  expect(guard.direct).toMatch(/^PackBackendError: /);
  expect(guard.sessionsCreated).toBe(0);
  // Where the guard sends it, the fp16 pack runs and matches onnxruntime-node's fp16 run.
  const out = await browserRun(page, {
    backend: guard.choice.backend as 'wasm',
    pack: packs.fp16,
    tiling: TILING,
  });
  const d = diffStats(out.data, reference.fp16.data);
  console.log(
    `tiny fp16 pack, wasm vs onnxruntime-node: max ${d.max}/255, mean ${d.mean.toFixed(4)}`,
  );
  expect(d.max).toBeLessThanOrEqual(3);
});
