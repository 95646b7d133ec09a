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

/**
 * WebGPU against WASM for each photo model. A software adapter here is 100-500x slower than WASM,
 * and ×4plus costs about 15x as much per pixel as general-x4v3 (17.9M multiply-adds per input
 * pixel), so both get the smallest crop the engine runs as it is: 16x16 (a side under 16 px is
 * padded to 48, engine/min-size.ts). ×4plus then takes about 1.5 minutes here. SwiftShader has no
 * shader-f16, so the fp32 model must run.
 */
const WEBGPU_CROPS = [
  { model: 'realesr-general-x4v3', size: 16 },
  { model: 'realesrgan-x4plus', size: 16 },
];

for (const { model, size } of WEBGPU_CROPS) {
  test(`WebGPU (onnxruntime-web/webgpu) restores like WASM with ${model}`, async ({ page }) => {
    const input = await crop(size);
    const modelFiles: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith(`/models/${model}/`))
        modelFiles.push(path.basename(url.pathname));
    });
    await openApp(page);
    await page.getByTestId(`model-option-${model}`).check();
    await chooseBackend(page, 'wasm');
    await openFile(page, input);
    await waitForResult(page);
    const wasm = await readRgba((await download(page, `${model}-wasm.png`)).file);
    await chooseBackend(page, 'webgpu');
    const started = Date.now();
    await page.getByTestId('restore-button').click();
    await waitForResult(page, 240_000);
    const used = page.getByTestId('backend-used');
    await expect(used).toHaveAttribute('data-backend', 'webgpu');
    await expect(used).toHaveAttribute('data-precision', 'fp32');
    // The worker's downloads are seen here too: the fp32 file, never model-fp16.onnx.
    expect(modelFiles).toContain('model.onnx');
    expect(modelFiles).not.toContain('model-fp16.onnx');
    const webgpu = await readRgba((await download(page, `${model}-webgpu.png`)).file);
    const diff = maxChannelDiff(webgpu, wasm);
    test.info().annotations.push({
      type: 'webgpu-vs-wasm',
      description: `${model} ${size}x${size}: max diff ${diff}/255, WebGPU run ${Date.now() - started} ms`,
    });
    console.log(
      `${model} ${size}x${size} WebGPU: max diff ${diff}/255, ${Date.now() - started} ms`,
    );
    expect(diff).toBeLessThanOrEqual(2);
  });
}
