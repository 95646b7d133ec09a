/**
 * The CPU engines for built-in models in the real worker: the hand-written WebAssembly SIMD kernels
 * (the default on WASM) and onnxruntime-web (the reference path the user can choose). Both must
 * give the command line's image (onnxruntime-node) within 2/255, and each other's within 1/255.
 */
import { expect, test } from '@playwright/test';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { injectFaults } from './helpers/faults.ts';
import { maxChannelDiff, readRgba, smallPhotoPath } from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';

const MODELS: [family: string, scale: number, modelId: string][] = [
  ['esrgan-slim', 2, 'esrgan-slim-x2'],
  ['esrgan-medium', 3, 'esrgan-medium-x3'],
  ['esrgan-thick', 4, 'esrgan-thick-x4'],
  // Real-ESRGAN: the compact net (PReLU, pixel shuffle, upsampled-input skip), and the anime
  // video net whose x3 ends in a bicubic downscale.
  ['realesr-general-x4v3', 4, 'realesr-general-x4v3'],
  ['realesr-animevideov3', 3, 'realesr-animevideov3-x3'],
];

for (const [family, scale, modelId] of MODELS) {
  test(`${family} x${scale}: fast kernels and onnxruntime-web both match the command line`, async ({
    page,
  }) => {
    const input = await smallPhotoPath();
    const reference = readRgba(await cliUpscale(input, modelId));
    await openApp(page);
    await chooseModel(page, family, scale);
    await chooseBackend(page, 'wasm');
    const used = page.getByTestId('backend-used');

    await expect(page.getByTestId('cpu-engine')).toHaveValue('kernels');
    await openFile(page, input);
    await waitForResult(page);
    await expect(used).toHaveAttribute('data-cpu-engine', 'kernels');
    await expect(used).toHaveText('WASM · fast kernels · 2 threads');
    const kernels = await readRgba((await download(page, `${family}-kernels.png`)).file);

    await page.getByTestId('cpu-engine').selectOption('onnxruntime');
    await page.getByTestId('restore-button').click();
    await waitForResult(page);
    await expect(used).toHaveAttribute('data-cpu-engine', 'onnxruntime');
    await expect(used).toHaveText('WASM · onnxruntime · 2 threads');
    const ort = await readRgba((await download(page, `${family}-ort.png`)).file);

    const expected = await reference;
    const diffs = {
      kernelsVsCli: maxChannelDiff(kernels, expected),
      ortVsCli: maxChannelDiff(ort, expected),
      kernelsVsOrt: maxChannelDiff(kernels, ort),
    };
    test.info().annotations.push({ type: 'max diff /255', description: JSON.stringify(diffs) });
    expect(diffs.kernelsVsCli).toBeLessThanOrEqual(2);
    expect(diffs.ortVsCli).toBeLessThanOrEqual(2);
    expect(diffs.kernelsVsOrt).toBeLessThanOrEqual(1);
    await expect(page.getByTestId('notice')).toHaveCount(0);
  });
}

test('when the kernels cannot start, onnxruntime-web restores the image and says so', async ({
  page,
}) => {
  await injectFaults(page, [{ match: 'small48', kernelsUnavailable: true }]);
  const input = await smallPhotoPath();
  const reference = readRgba(await cliUpscale(input, 'esrgan-slim-x2'));
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-cpu-engine', 'onnxruntime');
  await expect(page.getByTestId('notice')).toContainText(
    'The fast CPU kernels could not run this model (WebAssembly SIMD is not available (test fault)), so onnxruntime-web was used.',
  );
  const result = await readRgba((await download(page, 'slim-fallback.png')).file);
  expect(maxChannelDiff(result, await reference)).toBeLessThanOrEqual(2);
});
