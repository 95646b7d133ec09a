/**
 * Real-ESRGAN in the app: the default photo model is a Real-ESRGAN one (the fast one on a machine
 * without a hardware GPU), each photo model restores a crop of a shared photo like the command
 * line does, the picker groups the models and estimates the time, and an output scale below the
 * model's own is made by resizing its result.
 */
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { chooseBackend, download, openApp, openFile, waitForResult } from './helpers/app.ts';
import { maxChannelDiff, photoPath, readRgba, scratchPath } from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';

async function crop(size: number): Promise<string> {
  const file = scratchPath(`real-esrgan-crop${size}.png`);
  const { file: photo } = await photoPath();
  await sharp(photo).extract({ left: 210, top: 90, width: size, height: size }).png().toFile(file);
  return file;
}

test('the default is Real-ESRGAN general (fast) here; the picker groups models and estimates time', async ({
  page,
}) => {
  await openApp(page);
  await expect(page.getByTestId('model-option-realesr-general-x4v3')).toBeChecked();
  await expect(page.getByTestId('model-group-photo')).toContainText('Real-ESRGAN ×4plus');
  await expect(page.getByTestId('model-group-classic')).toContainText('ESRGAN medium');
  const input = await crop(32);
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('128x128');
  await expect(page.getByTestId('model-estimate-realesrgan-x4plus')).toContainText(
    'for this image on the CPU',
  );
});

for (const model of ['realesr-general-x4v3', 'realesrgan-x4plus']) {
  test(`${model} restores a photo crop like the command line`, async ({ page }) => {
    const input = await crop(32);
    const reference = cliUpscale(input, model);
    await openApp(page);
    await page.getByTestId(`model-option-${model}`).check();
    await chooseBackend(page, 'wasm');
    await openFile(page, input);
    await waitForResult(page);
    await expect(page.getByTestId('result-size')).toHaveText('128x128');
    const out = await readRgba((await download(page, `${model}.png`)).file);
    expect(maxChannelDiff(out, await readRgba(await reference))).toBeLessThanOrEqual(2);
  });
}

test('×2 with a ×4 model: the model runs at ×4 and the result is resized', async ({ page }) => {
  const input = await crop(32);
  const reference = await cliUpscale(input, 'realesr-general-x4v3');
  await openApp(page);
  await page.getByTestId('model-option-realesr-general-x4v3').check();
  await page.getByTestId('scale-option-2').check();
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('64x64');
  const out = await readRgba((await download(page, 'resized.png')).file);
  // Against the command line's x4 result resized the same way (Lanczos): filters differ a little.
  const resized = scratchPath(`${path.basename(reference, '.png')}-x2.png`);
  await sharp(reference).resize(64, 64, { kernel: 'lanczos3' }).png().toFile(resized);
  expect(maxChannelDiff(out, await readRgba(resized))).toBeLessThanOrEqual(16);
});

test('WebGPU (onnxruntime-web/webgpu) restores like WASM with realesr-general-x4v3', async ({
  page,
}) => {
  // A software adapter here is 100-500x slower than WASM: a 16x16 crop.
  const input = await crop(16);
  await openApp(page);
  await page.getByTestId('model-option-realesr-general-x4v3').check();
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  const wasm = await readRgba((await download(page, 'general-wasm.png')).file);
  await chooseBackend(page, 'webgpu');
  await page.getByTestId('restore-button').click();
  await waitForResult(page, 240_000);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'webgpu');
  const webgpu = await readRgba((await download(page, 'general-webgpu.png')).file);
  expect(maxChannelDiff(webgpu, wasm)).toBeLessThanOrEqual(2);
});
