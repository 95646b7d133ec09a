/**
 * Broken files get a specific error next to the photo controls, and the app goes on: a truncated
 * JPEG, an empty file, a text file renamed .png.
 */
import { expect, test, type Page } from '@playwright/test';
import { chooseBackend, chooseModel, openApp, openFile, waitForResult } from './helpers/app.ts';
import { emptyFile, sharedImage, smallPngs, textFile } from './helpers/inputs.ts';

async function expectRefused(page: Page, file: string, message: string | RegExp) {
  await openFile(page, file);
  await expect(page.getByTestId('source-error')).toHaveText(message);
  await expect(page.getByTestId('restore-button')).toBeDisabled();
  await expect(page.getByTestId('empty-state')).toBeVisible();
}

test('a truncated JPEG is reported as damaged', async ({ page }) => {
  const truncated = sharedImage('truncated.jpg');
  test.skip('skip' in truncated, 'skip' in truncated ? truncated.skip : '');
  if (!('file' in truncated)) return;
  await openApp(page);
  await expectRefused(
    page,
    truncated.file,
    '“truncated.jpg” could not be opened as an image: it is damaged or truncated (the JPEG data ends before its end-of-image marker; 400 bytes). Save or download it again.',
  );
});

test('an empty file and a text file renamed .png get their own errors; the app goes on', async ({
  page,
}) => {
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await expectRefused(page, emptyFile('empty.png'), '“empty.png” is empty (0 bytes).');
  await expectRefused(
    page,
    textFile('notes.png', 'Shopping list:\n- milk\n- bread\n'),
    '“notes.png” is a text file, not a PNG image (it was probably renamed). Open a PNG, JPEG, WebP, AVIF, GIF, BMP or SVG file.',
  );
  // Then a good image still restores.
  const [good] = await smallPngs(['good.png'], 12);
  await openFile(page, good);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('24x24');
  await expect(page.getByTestId('source-error')).toHaveCount(0);
});
