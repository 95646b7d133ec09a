/**
 * A pack that cannot fit the CPU engine's 4 GB WebAssembly memory is refused before anything is
 * loaded, in plain words with the numbers, naming what would run it; the tab stays responsive
 * and the next restore works. The stand-in is the test pack with its manifest declaring
 * full-size activations (the full GenDR pack's figures are in the closing note, not built here).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
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
// big to build in CI; with GENDR_FULL_PACK=<its folder> this runs the same check on it.
const fullPack = process.env.GENDR_FULL_PACK;
test('the full-size GenDR pack installs from a URL and is refused on WASM, with numbers', async ({
  page,
}) => {
  test.skip(!fullPack, 'set GENDR_FULL_PACK to a built full-size pack folder to run this');
  test.setTimeout(900_000);
  fs.symlinkSync(path.resolve(fullPack ?? ''), path.join(packs.dir, 'full'));
  const started = Date.now();
  await page.goto('/');
  await page.getByTestId('model-manager').locator('summary').click();
  await page.getByTestId('pack-url-input').fill(packs.manifestUrl('full'));
  await page.getByTestId('pack-url-install').click();
  await expect(page.getByTestId('pack-installed')).toContainText('GenDR-architecture pack', {
    timeout: 600_000,
  });
  const installed = Date.now();
  const id = JSON.parse(fs.readFileSync(path.join(fullPack ?? '', 'manifest.json'), 'utf8')).id;
  await page.getByTestId(`model-option-pack/${id}`).check();
  await chooseBackend(page, 'wasm');
  await openFile(page, await smallPhotoPath());
  const error = page.getByTestId('run-error');
  await expect(error).toContainText('more than the 4 GB it can use', { timeout: 120_000 });
  const refused = Date.now();
  test.info().annotations.push({
    type: 'full pack',
    description: `install ${((installed - started) / 1000).toFixed(1)} s, refused after ${((refused - installed) / 1000).toFixed(1)} s: ${await error.innerText()}`,
  });
  console.log(test.info().annotations.at(-1)?.description);
  await page.getByTestId('model-option-realesr-general-x4v3').check();
  await page.getByTestId('restore-button').click();
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('192x192');
});
