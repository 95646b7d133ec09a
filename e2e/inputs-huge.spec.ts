/**
 * Huge images are refused before anything is decoded, with the numbers from this device's limits,
 * and the user may choose to downscale instead.
 */
import { expect, test } from '@playwright/test';
import { chooseBackend, chooseModel, openApp, openFile } from './helpers/app.ts';
import { flatPng, lyingPng } from './helpers/inputs.ts';

test('a 12000x12000 image is refused with the numbers, then downscaled on the user’s choice', async ({
  page,
}) => {
  const huge = await flatPng('huge-12000.png', 12000, 12000);
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, huge);

  const message = page.getByTestId('size-message');
  await expect(message).toContainText('“huge-12000.png” is 12000 × 12000 px');
  await expect(message).toContainText('at ×2 the result would be 24000 × 24000 px (576 MP');
  await expect(message).toContainText(/this device allows at most 16384 px a side and \d+ MP/);
  await expect(message).toContainText(/GB device memory/);
  const gpu = await page.evaluate(async () => {
    type Adapter = { limits: { maxBufferSize: number } };
    const nav = navigator as Navigator & { gpu?: { requestAdapter(): Promise<Adapter | null> } };
    return (await nav.gpu?.requestAdapter())?.limits.maxBufferSize ?? null;
  });
  // With a WebGPU adapter, its limits are part of the numbers.
  if (gpu) await expect(message).toContainText(/GPU max buffer \d/);
  // Nothing was decoded or started.
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.getByTestId('run-status')).toHaveCount(0);

  // Refusing leaves the app as it was.
  await page.getByTestId('refuse-button').click();
  await expect(page.getByTestId('size-choice')).toHaveCount(0);
  await expect(page.getByTestId('empty-state')).toBeVisible();

  // Downscaling: the largest size whose x2 result fits (16384 px a side) is 8192 x 8192.
  await openFile(page, huge);
  await expect(page.getByTestId('downscale-button')).toHaveText(
    'Downscale to 8192 × 8192 and restore',
  );
  await page.getByTestId('downscale-button').click();
  await expect(page.getByTestId('source-info')).toContainText('8192 × 8192', { timeout: 120_000 });
  await expect(page.getByText(/Downscaled from 12000 × 12000 to 8192 × 8192 px/)).toBeVisible();
  // The restore starts (and is cancelled here: 8192 x 8192 takes long on two cores).
  await expect(page.getByTestId('cancel-button')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-phase', 'cancelled', {
    timeout: 120_000,
  });
});

test('a small file declaring 100000x100000 is refused before decoding; downscaling it fails cleanly', async ({
  page,
}) => {
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  const file = await lyingPng();
  await openFile(page, file);
  await expect(page.getByTestId('size-message')).toContainText(
    '“lying-100000.png” is 100000 × 100000 px: at ×2 the result would be 200000 × 200000 px',
  );
  await page.getByTestId('downscale-button').click();
  await expect(page.getByTestId('source-error')).toContainText(
    '“lying-100000.png” could not be opened as an image: this browser could not decode the PNG data',
  );
  // The page is alive and usable.
  await expect(page.getByTestId('restore-button')).toBeDisabled();
  expect(await page.evaluate(() => 1 + 1)).toBe(2);
});
