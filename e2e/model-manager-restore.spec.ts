/**
 * An installed pack is a model like the built-in ones: it appears in the model picker, restores a
 * photo with the latent pipeline in the worker (loaded from OPFS), its output blocks stream into
 * the canvas, and the result matches the command line's run of the same pack within 3/255.
 * Deleting the pack takes it out of the picker.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { repoRoot } from '../test/helpers/shared.ts';
import { chooseBackend, download, openFile, waitForResult } from './helpers/app.ts';
import { maxChannelDiff, readRgba, scratchPath, smallPhotoPath } from './helpers/images.ts';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4196);
const run = promisify(execFile);

let packs: PackServer;

test.beforeAll(async () => {
  packs = await startPackServer(PACK_PORT);
});
test.afterAll(async () => packs?.close());

test('an installed pack is picked like a built-in model and restores like the command line', async ({
  page,
}) => {
  const input = await smallPhotoPath();
  const reference = scratchPath('cli-pack-good.png');
  const cli = run(
    process.execPath,
    [
      path.join(repoRoot, 'bin/gendr-web.mjs'),
      'upscale',
      input,
      reference,
      '--pack',
      path.join(packs.dir, 'good'),
      '--quiet',
    ],
    { cwd: repoRoot, timeout: 180_000 },
  );

  await page.goto('/');
  const manager = page.getByTestId('model-manager');
  await manager.locator('summary').click();
  await page.getByTestId('pack-url-input').fill(packs.manifestUrl('good'));
  await page.getByTestId('pack-url-install').click();
  await expect(page.getByTestId('pack-installed')).toContainText('Test pack (good)');

  const option = page.getByTestId('model-option-pack/good');
  await expect(option).toBeVisible();
  await option.check();
  await expect(page.getByTestId('scale-option-4')).toBeChecked();
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('192x192');
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');
  const updates = await page.evaluate(() => window.__gendr.tileLog);
  expect(updates.length).toBeGreaterThanOrEqual(1);
  expect(updates.at(-1)!.done).toBe(updates.at(-1)!.total);

  const result = await readRgba((await download(page, 'pack-good.png')).file);
  await cli;
  const expected = await readRgba(reference);
  expect(maxChannelDiff(result, expected)).toBeLessThanOrEqual(3);

  // Deleted: gone from the picker, and a built-in model is selected again.
  await page.getByTestId('pack-delete-good').dblclick();
  await expect(option).toHaveCount(0);
  await expect(page.locator('input[name="model-family"]:checked')).toHaveCount(1);
});
