/**
 * Out of memory: a forced buffer limit (TEST-ONLY fault) makes the first tile size fail as out of
 * memory; the worker retries with smaller tiles, says so, and the result is still right.
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

test('over the buffer limit: retried automatically with smaller tiles', async ({ page }) => {
  const [file] = await smallPngs(['oom.png'], 64);
  const reference = cliUpscale(file, 'esrgan-slim-x2');
  // One 64-px tile needs a 1x3x128x128 float32 output (192 KB): over a 100 KB limit.
  await injectFaults(page, [{ match: 'oom', bufferLimitBytes: 100_000 }]);
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, file);
  await waitForResult(page);

  await expect(page.getByTestId('notice')).toHaveText(
    'Ran out of memory with 64-px tiles (a 64×64 tile needs a 192 KB output buffer, over the forced test buffer limit of 98 KB); retried with 36-px tiles.',
  );
  await expect(page.getByTestId('run-error')).toHaveCount(0);
  await expect(page.getByTestId('result-size')).toHaveText('128x128');
  // Nine 36-px tiles instead of one.
  expect(await page.evaluate(() => window.__gendr.tileLog.at(-1)?.total)).toBe(9);
  const out = await readRgba((await download(page, 'oom@2x.png')).file);
  expect(maxChannelDiff(out, await readRgba(await reference))).toBeLessThanOrEqual(2);
});

test('still over the limit with the smallest tiles: a clear error, and the app goes on', async ({
  page,
}) => {
  const [file, good] = await smallPngs(['oom-tiny-limit.png', 'fine.png'], 40);
  await injectFaults(page, [{ match: 'oom-tiny-limit', bufferLimitBytes: 1000 }]);
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, file);
  await expect(page.getByTestId('run-error')).toContainText(
    'Out of memory even with the smallest tiles (36 px)',
  );
  await openFile(page, good);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('80x80');
});
