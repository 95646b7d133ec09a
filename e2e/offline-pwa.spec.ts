/**
 * The installable, offline app: the first visit precaches the app, onnxruntime-web's WASM build
 * and the default model; any other model is cached when first used, or all at once on request.
 * With the network gone (browser offline and the server stopped)
 * a reload still gives a cross-origin-isolated app that restores a photo correctly. A new
 * deployment is offered as a reload, which waits for a running restore to finish.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { chooseBackend, chooseModel, download, openFile, waitForResult } from './helpers/app.ts';
import { serveDist, type DistServer } from './helpers/dist-server.ts';
import {
  maxChannelDiff,
  photoPath,
  readRgba,
  scratchPath,
  smallPhotoPath,
} from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';

const PORT = Number(process.env.GENDR_E2E_OFFLINE_PORT ?? 4197);

// The service worker is the thing under test here (playwright.config.ts blocks it elsewhere).
test.use({ serviceWorkers: 'allow' });

let app: DistServer;

test.beforeEach(async () => {
  app = await serveDist(PORT);
});
test.afterEach(async () => app?.close());

interface Hook {
  phase: string | null;
  threads: number | null;
  crossOriginIsolatedWorker: boolean | null;
}

/** The photo (451x300) re-encoded without its metadata chunks: enough work for a few seconds. */
async function plainPhoto(): Promise<string> {
  const file = scratchPath('plain-photo.png');
  if (!fs.existsSync(file))
    await sharp((await photoPath()).file)
      .png()
      .toFile(file);
  return file;
}

/** Opens the app and waits until the service worker has precached everything and controls it. */
async function firstVisit(page: Page): Promise<void> {
  await page.goto(`${app.origin}/`);
  await expect(page.getByTestId('offline-ready')).toBeVisible({ timeout: 120_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

test('after the first visit the app reloads and restores correctly with no network, still cross-origin isolated', async ({
  page,
  context,
}) => {
  const input = await smallPhotoPath();
  const reference = cliUpscale(input, 'esrgan-slim-x2');
  await firstVisit(page);
  // The first visit precaches the shell and the default path only: one model, the WASM runtime.
  const precached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      if (!name.includes('precache')) continue;
      for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
    }
    const index = (await (await fetch('/models/index.json')).json()) as { default: string };
    return { urls, defaultModel: index.default };
  });
  const models = precached.urls.filter((u) => u.includes('.onnx')).map((u) => new URL(u).pathname);
  expect(models).toEqual([`/models/${precached.defaultModel}/model.onnx`]);
  expect(precached.urls.some((u) => u.includes('asyncify'))).toBe(false);
  expect(
    precached.urls.some((u) => new URL(u).pathname === '/ort/ort-wasm-simd-threaded.wasm'),
  ).toBe(true);

  // A model used once while online is cached then, and works offline afterwards.
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect
    .poll(() =>
      page.evaluate(async () => !!(await caches.match('/models/esrgan-slim-x2/model.onnx'))),
    )
    .toBe(true);

  await context.setOffline(true);
  await app.stop();
  const fromWorker: string[] = [];
  const fromNetwork: string[] = [];
  page.on('response', (r) => (r.fromServiceWorker() ? fromWorker : fromNetwork).push(r.url()));
  await page.reload();
  await expect(page.getByTestId('model-option-esrgan-slim')).toBeVisible();
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await expect
    .poll(() => page.evaluate(() => (window.__gendr as unknown as Hook).crossOriginIsolatedWorker))
    .toBe(true);

  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('96x96');
  const threads = await page.evaluate(() => (window.__gendr as unknown as Hook).threads);
  expect(threads).toBeGreaterThan(1);
  const result = await readRgba((await download(page, 'offline-small@2x.png')).file);
  expect(maxChannelDiff(result, await readRgba(await reference))).toBeLessThanOrEqual(2);

  expect(fromWorker.some((u) => u === `${app.origin}/`)).toBe(true);
  expect(fromWorker.some((u) => u.endsWith('/models/esrgan-slim-x2/model.onnx'))).toBe(true);
  // The default CPU engine: the hand-written kernels (their .wasm and helper thread script).
  expect(fromWorker.some((u) => /\/assets\/kernels-(relaxed|simd)-[\w-]+\.wasm$/.test(u))).toBe(
    true,
  );
  expect(fromWorker.some((u) => /\/assets\/kernel-helper\.worker-[\w-]+\.js$/.test(u))).toBe(true);

  // onnxruntime-web, the other CPU engine, works offline too.
  await page.getByTestId('cpu-engine').selectOption('onnxruntime');
  await page.getByTestId('restore-button').click();
  await waitForResult(page);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-cpu-engine', 'onnxruntime');
  const viaOrt = await readRgba((await download(page, 'offline-small-ort@2x.png')).file);
  expect(maxChannelDiff(viaOrt, await readRgba(await reference))).toBeLessThanOrEqual(2);
  expect(fromWorker.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
  expect(fromNetwork.filter((u) => u.startsWith(app.origin))).toEqual([]);
});

test('"Make all models available offline" saves every model, with progress', async ({ page }) => {
  await firstVisit(page);
  await page.getByTestId('offline-all').click();
  const progress = page.getByTestId('offline-all-progress');
  await expect(progress).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  const index = await page.evaluate(
    async () => (await (await fetch('/models/index.json')).json()) as { models: unknown[] },
  );
  // Every model plus the two WebGPU runtime files.
  await expect(progress).toContainText(
    `${index.models.length + 2} of ${index.models.length + 2} files`,
  );
  const cachedModels = await page.evaluate(async () => {
    const cache = await caches.open('gendr-models');
    return (await cache.keys()).filter((r) => r.url.endsWith('.onnx')).length;
  });
  // All but the precached default model are in the runtime cache.
  expect(cachedModels).toBe(index.models.length - 1);
});

test('a new version is offered as a reload that waits for the running restore', async ({
  page,
}) => {
  await firstVisit(page);
  await page.evaluate(() => {
    addEventListener('pagehide', () =>
      sessionStorage.setItem('phase-at-unload', String(window.__gendr.phase)),
    );
  });

  // Deploy a new version: the service worker script changes.
  const sw = fs.readFileSync(path.join(app.root, 'sw.js'), 'utf8');
  app.writeFile('sw.js', `${sw}\n// next version\n`);
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration?.update();
  });
  await expect(page.getByTestId('update-prompt')).toBeVisible({ timeout: 60_000 });

  // Start a restore, then accept the update while it runs.
  await chooseModel(page, 'esrgan-medium', 4);
  await chooseBackend(page, 'wasm');
  await openFile(page, await plainPhoto());
  await page.waitForFunction(() => window.__gendr.phase === 'restoring', null, {
    timeout: 120_000,
  });
  await page.getByTestId('update-reload').click();
  await expect(page.getByTestId('update-pending')).toBeVisible();
  expect(await page.evaluate(() => window.__gendr.phase)).toBe('restoring');

  // The page reloads only after the restore is done, under the new version.
  await page.waitForFunction(() => sessionStorage.getItem('phase-at-unload') !== null, null, {
    timeout: 180_000,
  });
  expect(await page.evaluate(() => sessionStorage.getItem('phase-at-unload'))).toBe('done');
  await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  const state = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return {
      waiting: registration?.waiting ?? null,
      controlled: !!navigator.serviceWorker.controller,
    };
  });
  expect(state).toEqual({ waiting: null, controlled: true });
  const active = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return registration?.active?.scriptURL ?? null;
  });
  expect(active).toBe(`${app.origin}/sw.js`);
});

test('the web app manifest makes it installable', async ({ page, request }) => {
  await page.goto(`${app.origin}/`);
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBe('/manifest.webmanifest');
  const manifest = await (await request.get(`${app.origin}${href}`)).json();
  expect(manifest).toMatchObject({
    name: 'GenDR Web',
    short_name: 'GenDR',
    start_url: '/',
    display: 'standalone',
  });
  const sizes = (manifest.icons as { sizes: string; purpose: string; src: string }[]).map(
    (i) => `${i.sizes} ${i.purpose}`,
  );
  expect(sizes).toEqual(expect.arrayContaining(['192x192 any', '512x512 any', '512x512 maskable']));
  for (const icon of manifest.icons as { src: string; type: string }[]) {
    const response = await request.get(new URL(icon.src, `${app.origin}/`).href);
    expect(response.ok(), icon.src).toBe(true);
    expect(response.headers()['content-type']).toContain(icon.type.split('+')[0]);
  }
  // Chromium's own installability check.
  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // Playwright's contexts are incognito, where Chromium never offers installing: that one aside.
  expect(installabilityErrors.filter((e) => e.errorId !== 'in-incognito')).toEqual([]);
});
