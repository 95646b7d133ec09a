/**
 * Without --enable-unsafe-webgpu this Chromium has no WebGPU adapter: forcing WebGPU must still
 * restore the image, on WASM, with a visible notice rather than an error.
 */
import { expect, test } from '@playwright/test';
import { chooseBackend, openApp, openFile, waitForResult } from './helpers/app.ts';
import { smallPhotoPath } from './helpers/images.ts';

test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  },
});

test('forcing WebGPU without an adapter falls back to WASM with a notice', async ({ page }) => {
  await openApp(page);
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return !!(await gpu?.requestAdapter());
  });
  test.skip(hasAdapter, 'this Chromium exposes a WebGPU adapter even without the flag');

  await chooseBackend(page, 'webgpu');
  await openFile(page, await smallPhotoPath());
  await waitForResult(page);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('notice')).toContainText('WebGPU is not available');
  await expect(page.getByTestId('run-error')).toHaveCount(0);
});
