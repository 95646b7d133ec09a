/**
 * A worker crash (the worker closes itself mid-run, TEST-ONLY fault) and a model that throws:
 * the item fails with the reason, a new worker starts, and the queue carries on.
 */
import { expect, test } from '@playwright/test';
import { chooseBackend, chooseModel, openApp, openFile, waitForResult } from './helpers/app.ts';
import { expectStatus, item, statuses } from './helpers/batch.ts';
import { injectFaults } from './helpers/faults.ts';
import { smallPngs } from './helpers/inputs.ts';

test('a worker crash fails only that item; a new worker finishes the queue', async ({ page }) => {
  const files = await smallPngs(['first.png', 'crash-me.png', 'throw-me.png', 'last.png'], 40);
  const workers: string[] = [];
  page.on('worker', (worker) => {
    if (worker.url().includes('restore.worker')) workers.push(worker.url());
  });
  await injectFaults(page, [
    // 36-px tiles: four model runs; the worker dies before the second.
    { match: 'crash-me', tileSize: 36, crashAfterRuns: 1 },
    { match: 'throw-me', throwingModel: true },
  ]);
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await page.getByTestId('file-input').setInputFiles(files);

  await expectStatus(page, 'last.png', /^(done|failed)$/);
  expect(await statuses(page)).toEqual({
    'first.png': 'done',
    'crash-me.png': 'failed',
    'throw-me.png': 'failed',
    'last.png': 'done',
  });
  await expect(item(page, 'crash-me.png').getByTestId('item-error')).toHaveText(
    'Restoring failed: The restore worker stopped unexpectedly (it crashed or ran out of memory); a new one was started.',
  );
  await expect(item(page, 'throw-me.png').getByTestId('item-error')).toHaveText(
    'Restoring failed: the model failed on this input (test fault)',
  );
  // The crashed worker was replaced by a new one.
  expect(workers.length).toBeGreaterThanOrEqual(2);

  // A single photo afterwards restores normally.
  const [after] = await smallPngs(['after.png'], 24);
  await openFile(page, after);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('48x48');
});
