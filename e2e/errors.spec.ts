/** Files that are not images get a plain-words error next to the photo controls, and the app goes on. */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { dropFile, openApp } from './helpers/app.ts';
import { scratchPath } from './helpers/images.ts';

test('a damaged image is reported in plain words', async ({ page }) => {
  const broken = scratchPath('broken.png');
  // A PNG signature followed by garbage.
  fs.writeFileSync(
    broken,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 7),
    ]),
  );
  await openApp(page);
  await dropFile(page, broken);
  await expect(page.getByTestId('source-error')).toContainText('could not be opened as an image');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.getByTestId('restore-button')).toBeDisabled();
});
