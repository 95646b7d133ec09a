/**
 * WebGPU device lost mid-run: the device is destroyed inside the worker (device.destroy()) after
 * the first tile; the app finishes the job on WASM, says so, and the result is right.
 * WebGPU here is SwiftShader (slow), so the image is tiny.
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
import { maxChannelDiff, readRgba } from './helpers/images.ts';
import { smallPngs } from './helpers/inputs.ts';
import { cliUpscale } from './helpers/reference.ts';

test('device lost after the first tile: the restore finishes on WASM with a notice', async ({
  page,
}) => {
  const [file] = await smallPngs(['gpu-lost.png'], 40);
  const reference = cliUpscale(file, 'esrgan-slim-x2');
  // 36-px tiles: 2 x 2 tiles for a 40 x 40 image; the device goes after the first model run.
  await injectFaults(page, [{ match: 'gpu-lost', tileSize: 36, loseDeviceAfterRuns: 1 }]);
  await openApp(page);
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return !!(await gpu?.requestAdapter());
  });
  test.skip(!hasAdapter, 'this Chromium has no WebGPU adapter (run with --enable-unsafe-webgpu)');

  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'webgpu');
  await openFile(page, file);
  await waitForResult(page, 240_000);

  await expect(page.getByTestId('notice')).toContainText(
    'The GPU stopped working during the restore (the WebGPU device was lost (destroyed',
  );
  await expect(page.getByTestId('notice')).toContainText('so it was finished on WASM.');
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('result-size')).toHaveText('80x80');
  const out = await readRgba((await download(page, 'gpu-lost@2x.png')).file);
  expect(maxChannelDiff(out, await readRgba(await reference))).toBeLessThanOrEqual(2);

  // The next restore still works (WebGPU is gone for this worker: WASM, with a notice).
  await page.getByTestId('restore-button').click();
  await waitForResult(page, 240_000);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('notice')).toContainText('The GPU stopped working earlier');
});
