/**
 * Privacy: a full restore (open, restore in the worker, download) makes no request outside the
 * app's own origin. Every request of the page and its workers is recorded.
 */
import { expect, test } from '@playwright/test';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  dropFile,
  waitForResult,
} from './helpers/app.ts';
import { photoPath } from './helpers/images.ts';

test('a full restore sends no request outside the app’s own origin', async ({
  page,
  context,
  baseURL,
}) => {
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  const { file } = await photoPath();
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'auto');
  await dropFile(page, file);
  await waitForResult(page);
  await download(page, 'privacy.png');

  const origin = new URL(baseURL!).origin;
  const outside = requests.filter((url) => {
    const { protocol, origin: o } = new URL(url);
    return !(o === origin || protocol === 'data:' || protocol === 'blob:');
  });
  expect(outside).toEqual([]);
  // The recording saw the worker's own fetches too: the model and the runtime (on WASM, the
  // hand-written kernels, self-hosted under assets/).
  expect(requests.some((url) => url.includes('/models/esrgan-slim-x2/'))).toBe(true);
  expect(requests.some((url) => /\/assets\/kernels-(relaxed|simd)-[\w-]+\.wasm$/.test(url))).toBe(
    true,
  );
});
