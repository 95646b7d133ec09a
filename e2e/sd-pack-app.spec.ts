/**
 * Proof 2 of the SD builder issue, in the app: the tiny SD 2.1-architecture pack (TINY_UNET +
 * TINY_VAE with seeded random weights, written as diffusers-named safetensors and packed by the
 * real `gendr-web pack`; e2e/helpers/sd-tiny-pack.ts) is served from another origin, installed in
 * the app from its manifest URL through the model manager, picked in the model picker, restores a
 * 32×32 crop of the photo ×4 on WASM, and the downloaded result matches `gendr-web upscale --pack`
 * on the same input within 3/255.
 *
 * The pack is the parity spec's fp32 pack (e2e/sd-pack-parity.spec.ts): plain graphs, which the
 * browser runs, plus a fused variant for onnxruntime-node, which the command line runs, and every
 * graph's weights in ONNX external data, which the app downloads, stores and loads.
 */
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { chooseBackend, download, openFile, waitForResult } from './helpers/app.ts';
import { maxChannelDiff, photoPath, readRgba, scratchPath } from './helpers/images.ts';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';
import {
  gendrCli,
  TINY_SD_PACK_ID,
  TINY_SD_PACK_NAME,
  writeTinySdPackWithCli,
} from './helpers/sd-tiny-pack.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4198);
const SIZE = 32;
const SCALE = 4;

let packs: PackServer;
let input: string;
let reference: string;
let cliMs = 0;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  packs = await startPackServer(PACK_PORT, {
    packs: { [TINY_SD_PACK_ID]: writeTinySdPackWithCli },
  });
  input = scratchPath(`sd-tiny-in${SIZE}.png`);
  await sharp((await photoPath()).file)
    .extract({ left: 200, top: 100, width: SIZE, height: SIZE })
    .png()
    .toFile(input);
  // The command line's run of the same pack, before the browser starts (2 cores: not at once).
  reference = scratchPath('sd-tiny-cli.png');
  const start = performance.now();
  await gendrCli(
    'upscale',
    input,
    reference,
    '--pack',
    path.join(packs.dir, TINY_SD_PACK_ID),
    '--quiet',
  );
  cliMs = performance.now() - start;
});
test.afterAll(async () => packs?.close());

test('the tiny SD pack installs from a URL, restores on WASM and matches the command line', async ({
  page,
}) => {
  const testStart = performance.now();
  await page.goto('/');
  await page.getByTestId('model-manager').locator('summary').click();
  await page.getByTestId('pack-url-input').fill(packs.manifestUrl(TINY_SD_PACK_ID));
  await page.getByTestId('pack-url-install').click();
  await expect(page.getByTestId('pack-installed')).toContainText(TINY_SD_PACK_NAME);
  // The external-data files were fetched with their graphs.
  for (const graph of ['vae_encoder', 'unet', 'vae_decoder'])
    expect(packs.requests).toContain(`/${TINY_SD_PACK_ID}/${graph}/model.onnx_data`);

  const option = page.getByTestId(`model-option-pack/${TINY_SD_PACK_ID}`);
  await expect(option).toBeVisible();
  await option.check();
  await expect(page.getByTestId(`scale-option-${SCALE}`)).toBeChecked();
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page, 60_000);
  const out = SIZE * SCALE;
  await expect(page.getByTestId('result-size')).toHaveText(`${out}x${out}`);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');
  const runMs = await page.evaluate(
    () => (window.__gendr as unknown as { runMs: number | null }).runMs,
  );

  const saved = (await download(page, 'sd-tiny-app.png')).file;
  const result = await readRgba(saved);
  const diff = maxChannelDiff(result, await readRgba(reference));
  // Not a flat image: random weights still give a picture that varies.
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < result.data.length; i += 4) {
    lo = Math.min(lo, result.data[i]);
    hi = Math.max(hi, result.data[i]);
  }
  console.log(
    `tiny SD pack, ${SIZE}² ×${SCALE} on WASM: restore ${Math.round(runMs ?? NaN)} ms; CLI ${Math.round(cliMs)} ms; ` +
      `max diff vs CLI ${diff}/255; red range ${lo}..${hi}; test body ${Math.round(performance.now() - testStart)} ms`,
  );
  expect(hi - lo).toBeGreaterThan(8);
  expect(diff).toBeLessThanOrEqual(3);
});
