/**
 * Finished results persist (IndexedDB) until the user clears them; a reload in the middle of a
 * batch keeps every finished result and shows the unfinished items as resumable; resumed items
 * run with the model and format they were queued with, whatever the picker shows by then.
 */
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { chooseBackend, chooseModel, openApp } from './helpers/app.ts';
import { expectStatus, item, statuses } from './helpers/batch.ts';
import { scratchPath } from './helpers/images.ts';
import { smallPngs } from './helpers/inputs.ts';

test('a reload mid-batch keeps finished results and offers to resume the rest', async ({
  page,
}) => {
  const files = await smallPngs(['p1.png', 'p2.png', 'p3.png', 'p4.png'], 160);
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await page.getByTestId('file-input').setInputFiles(files);
  // Reload the moment the first result is stored and the second is running.
  await page.waitForFunction(
    () => {
      const status = (name: string) =>
        document
          .querySelector(`[data-testid="batch-item"][data-name="${name}"]`)
          ?.getAttribute('data-status');
      return status('p1.png') === 'done' && status('p2.png') === 'running';
    },
    null,
    { polling: 'raf', timeout: 180_000 },
  );

  await page.reload();
  await expect(page.getByTestId('batch-item')).toHaveCount(4);
  const after = await statuses(page);
  expect(after['p1.png']).toBe('done');
  // p2 may have finished just before the reload; whatever had not is resumable.
  const unfinished = Object.entries(after).filter(([, s]) => s !== 'done');
  expect(unfinished.length).toBeGreaterThanOrEqual(2);
  for (const [, status] of unfinished) expect(status).toBe('interrupted');
  await expect(item(page, 'p3.png').getByTestId('item-status')).toHaveText(
    'Interrupted: resume to finish',
  );
  await expect(page.getByTestId('resume-all')).toHaveText(`Resume ${unfinished.length}`);
  // Nothing runs by itself after the reload.
  await expect(page.getByTestId('run-status')).toHaveCount(0);

  // The stored result is still there, thumbnail and download.
  await expect(item(page, 'p1.png').getByTestId('item-thumbnail')).toBeVisible();
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    item(page, 'p1.png').getByTestId('item-download').click(),
  ]);
  const file = scratchPath('p1-after-reload.png');
  await saved.saveAs(file);
  const meta = await sharp(file).metadata();
  expect([meta.width, meta.height]).toEqual([320, 320]);

  // Each item keeps the settings it was queued with: another pick now changes nothing for them.
  await expect(item(page, 'p4.png').getByTestId('item-settings')).toHaveText(
    'ESRGAN slim ×2 · PNG',
  );
  await chooseModel(page, 'esrgan-medium', 4);
  await page.getByTestId('resume-all').click();
  for (const name of ['p2.png', 'p3.png', 'p4.png']) await expectStatus(page, name, 'done');
  const [resumed] = await Promise.all([
    page.waitForEvent('download'),
    item(page, 'p4.png').getByTestId('item-download').click(),
  ]);
  const resumedFile = scratchPath('p4-resumed.png');
  await resumed.saveAs(resumedFile);
  const resumedMeta = await sharp(resumedFile).metadata();
  expect([resumedMeta.width, resumedMeta.height]).toEqual([320, 320]);
  await expect(page.getByTestId('batch-summary')).toHaveText('4 of 4 done');

  // Results stay until cleared: still there after another reload, gone after "Clear finished".
  await page.reload();
  await expect(page.getByTestId('batch-summary')).toHaveText('4 of 4 done');
  await page.getByTestId('clear-results').click();
  await expect(page.getByTestId('batch-panel')).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('model-option-esrgan-medium')).toBeVisible();
  await expect(page.getByTestId('batch-panel')).toHaveCount(0);
});
