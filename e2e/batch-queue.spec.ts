/**
 * The batch queue: several files go into a queue processed one at a time, each with its own status,
 * thumbnail and result; one or all can be cancelled; everything downloads as a ZIP.
 */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { chooseBackend, chooseModel, openApp } from './helpers/app.ts';
import { expectStatus, item, statuses, watchConcurrency } from './helpers/batch.ts';
import { scratchPath } from './helpers/images.ts';
import { lyingPng, smallPngs, textFile } from './helpers/inputs.ts';

test.beforeEach(async ({ page }) => {
  // Each test has its own browser context, so its own (empty) stored queue.
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
});

test('several picked files are restored one at a time, each with status, thumbnail and result; ZIP of all', async ({
  page,
}) => {
  const files = await smallPngs(['one.png', 'two.png', 'three.png'], 24);
  const broken = textFile('broken.png', 'not an image at all');
  const huge = await lyingPng();
  const maxRunning = await watchConcurrency(page);
  await page.getByTestId('file-input').setInputFiles([...files, broken, huge]);

  await expect(page.getByTestId('batch-item')).toHaveCount(5);
  for (const name of ['one.png', 'two.png', 'three.png']) await expectStatus(page, name, 'done');
  await expectStatus(page, 'broken.png', 'failed');
  await expect(item(page, 'broken.png').getByTestId('item-error')).toContainText(
    '“broken.png” is a text file, not a PNG image',
  );
  // Too large for this device: waits for the user's choice, with the numbers.
  await expectStatus(page, 'lying-100000.png', 'too-large');
  await expect(item(page, 'lying-100000.png').getByTestId('item-error')).toContainText(
    'is 100000 × 100000 px: at ×2 the result would be 200000 × 200000 px',
  );
  await expect(item(page, 'lying-100000.png').getByTestId('item-downscale')).toBeVisible();
  expect(await maxRunning()).toBe(1);
  await expect(page.getByTestId('batch-summary')).toHaveText('3 of 5 done');

  for (const name of ['one', 'two', 'three']) {
    const row = item(page, `${name}.png`);
    await expect(row.getByTestId('item-status')).toContainText('Done · 48 × 48');
    await expect(row.getByTestId('item-thumbnail')).toBeVisible();
    const [saved] = await Promise.all([
      page.waitForEvent('download'),
      row.getByTestId('item-download').click(),
    ]);
    expect(saved.suggestedFilename()).toBe(`${name}@2x.png`);
    const file = scratchPath(`batch-${name}.png`);
    await saved.saveAs(file);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([48, 48]);
  }

  const [zip] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('download-zip').click(),
  ]);
  expect(zip.suggestedFilename()).toBe('gendr-results.zip');
  const zipFile = scratchPath('results.zip');
  await zip.saveAs(zipFile);
  const entries = unzipSync(new Uint8Array(fs.readFileSync(zipFile)));
  expect(Object.keys(entries).sort()).toEqual(['one@2x.png', 'three@2x.png', 'two@2x.png']);
  for (const bytes of Object.values(entries)) {
    const meta = await sharp(Buffer.from(bytes)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 48, 48]);
  }
});

test('cancel one item, then cancel all: the rest of the queue is not lost', async ({ page }) => {
  // Larger items (about 2 s each on 2 cores) so that they are still queued or running when cancelled.
  const files = await smallPngs(['a.png', 'b.png', 'c.png', 'd.png', 'e.png'], 512);
  await page.getByTestId('file-input').setInputFiles(files);
  await expect(page.getByTestId('batch-item')).toHaveCount(5);

  // Cancel a queued item: it is skipped, the others go on.
  await item(page, 'c.png').getByTestId('item-cancel').click();
  await expectStatus(page, 'c.png', 'cancelled');
  await expectStatus(page, 'a.png', 'done');
  // Cancel the running one.
  await expectStatus(page, 'b.png', 'running');
  await item(page, 'b.png').getByTestId('item-cancel').click();
  await expectStatus(page, 'b.png', 'cancelled');
  await expectStatus(page, 'd.png', 'running');
  // Cancel all: d (running) and e (queued).
  await page.getByTestId('cancel-all').click();
  await expectStatus(page, 'd.png', 'cancelled');
  await expectStatus(page, 'e.png', 'cancelled');
  expect(await statuses(page)).toEqual({
    'a.png': 'done',
    'b.png': 'cancelled',
    'c.png': 'cancelled',
    'd.png': 'cancelled',
    'e.png': 'cancelled',
  });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-phase', 'cancelled');

  // A cancelled item can be tried again, and the app is usable.
  await item(page, 'c.png').getByTestId('item-retry').click();
  await expectStatus(page, 'c.png', 'done');
  await expect(item(page, 'a.png').getByTestId('item-download')).toBeVisible();
});
