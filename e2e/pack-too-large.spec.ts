/**
 * A pack that cannot fit the CPU engine's 4 GB WebAssembly memory is refused before anything is
 * loaded, in plain words with the numbers, naming what would run it; the tab stays responsive
 * and the next restore works. The stand-in is the test pack with its manifest declaring
 * full-size activations (the full GenDR pack's figures are in the closing note, not built here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { chooseBackend, openFile, waitForResult } from './helpers/app.ts';
import { smallPhotoPath } from './helpers/images.ts';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4196) + 5;

let packs: PackServer;

test.beforeAll(async () => {
  packs = await startPackServer(PACK_PORT);
  const from = path.join(packs.dir, 'good');
  const to = path.join(packs.dir, 'huge');
  fs.cpSync(from, to, { recursive: true });
  const manifestFile = path.join(to, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  manifest.id = 'huge';
  manifest.name = 'Huge test pack';
  manifest.memory = { ...manifest.memory, decoderBytesPerLatentPixel: 1e9 };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
});
test.afterAll(async () => packs?.close());

test('a pack over the WASM memory is refused up front, with numbers and what would run it', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByTestId('model-manager').locator('summary').click();
  await page.getByTestId('pack-url-input').fill(packs.manifestUrl('huge'));
  await page.getByTestId('pack-url-install').click();
  await expect(page.getByTestId('pack-installed')).toContainText('Huge test pack');
  await page.getByTestId('model-option-pack/huge').check();
  await chooseBackend(page, 'wasm');
  const input = await smallPhotoPath();
  await openFile(page, input);
  const error = page.getByTestId('run-error');
  await expect(error).toContainText('Huge test pack needs about');
  await expect(error).toContainText('more than the 4 GB it can use');
  await expect(error).toContainText('WebGPU');
  await expect(error).toContainText('shader-f16');
  // The app goes on: a built-in model restores the same photo.
  await page.getByTestId('model-option-realesr-general-x4v3').check();
  await page.getByTestId('restore-button').click();
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('192x192');
});

// The real full-size pack (`gendr-web pack --preset gendr --random --dtype fp16`, 1.8 GB) is too
// big to build in CI; with GENDR_FULL_PACK=<its folder> this runs the same check on it. It runs in
// a profile on disk: Playwright's usual contexts are private, and a private window refuses files
// of about 1.4 GB (e2e/model-manager-install.spec.ts shows the message a user gets there).
const fullPack = process.env.GENDR_FULL_PACK;

async function diskProfile(): Promise<{ context: BrowserContext; page: Page; dir: string }> {
  const use = test.info().project.use;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    ...use.launchOptions,
    baseURL: use.baseURL,
    serviceWorkers: 'block',
    acceptDownloads: true,
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()), dir };
}

async function expectRefusedOnWasmAndGpu(page: Page, id: string): Promise<string[]> {
  const texts: string[] = [];
  await page.getByTestId(`model-option-pack/${id}`).check();
  const error = page.getByTestId('run-error');
  for (const backend of ['wasm', 'webgpu'] as const) {
    await chooseBackend(page, backend);
    await openFile(page, await smallPhotoPath());
    await expect(error).toContainText('more than the 4 GB it can use', { timeout: 120_000 });
    await expect(error).toContainText('shader-f16');
    await expect(error).toContainText(/GB of weights as it holds them \(fp16 widened to fp32\)/);
    if (backend === 'webgpu') {
      // No adapter here has shader-f16: the app says why it went to the CPU engine.
      await expect(page.getByTestId('notice').first()).toContainText('lacks WebGPU shader-f16');
    }
    texts.push(`${backend}: ${await error.innerText()}`);
    // The app goes on: a built-in model restores the same photo.
    await page.getByTestId('model-option-realesr-general-x4v3').check();
    await page.getByTestId('restore-button').click();
    await waitForResult(page);
    await expect(page.getByTestId('result-size')).toHaveText('192x192');
    await page.getByTestId(`model-option-pack/${id}`).check();
  }
  return texts;
}

test('the full-size GenDR pack installs from a URL and from its folder, and is refused on WASM and on WebGPU without shader-f16', async () => {
  test.skip(!fullPack, 'set GENDR_FULL_PACK to a built full-size pack folder to run this');
  test.setTimeout(1_500_000);
  const folder = path.resolve(fullPack ?? '');
  fs.symlinkSync(folder, path.join(packs.dir, 'full'));
  const id = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')).id;
  const { context, page, dir } = await diskProfile();
  try {
    const notes: string[] = [];
    let started = Date.now();
    await page.goto('/');
    await page.getByTestId('model-manager').locator('summary').click();
    await page.getByTestId('pack-url-input').fill(packs.manifestUrl('full'));
    await page.getByTestId('pack-url-install').click();
    await expect(page.getByTestId('pack-installed')).toContainText('GenDR-architecture pack', {
      timeout: 600_000,
    });
    notes.push(`install from URL ${((Date.now() - started) / 1000).toFixed(1)} s`);
    started = Date.now();
    notes.push(...(await expectRefusedOnWasmAndGpu(page, id)));
    notes.push(`both refusals and restores ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // The same pack from its folder, as a user picks it: it replaces the installed copy.
    await page.getByTestId(`pack-delete-${id}`).dblclick();
    await expect(page.getByTestId(`pack-item-${id}`)).toHaveCount(0);
    started = Date.now();
    await page.getByTestId('pack-folder-input').setInputFiles(folder);
    await expect(page.getByTestId(`pack-item-${id}`)).toBeVisible({ timeout: 600_000 });
    notes.push(`install from folder ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await page.getByTestId(`model-option-pack/${id}`).check();
    await chooseBackend(page, 'wasm');
    await openFile(page, await smallPhotoPath());
    await expect(page.getByTestId('run-error')).toContainText('more than the 4 GB it can use', {
      timeout: 120_000,
    });
    test.info().annotations.push({ type: 'full pack', description: notes.join('\n') });
    console.log(notes.join('\n'));
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
