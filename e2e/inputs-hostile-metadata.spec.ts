/**
 * A PNG whose iCCP profile inflates to 2 GiB (2 MB on disk): the page opens it at once, says the
 * profile was left out, restores it and downloads the result, all without freezing.
 */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { iccBombPng } from '../test/helpers/crafted-inputs.ts';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { maxChannelDiff, readRgba, scratchPath } from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';

/** The browser's own sRGB profile (Chromium tags JPEGs with it): described "sRGB", in UTF-16. */
function isSrgbProfile(icc: Buffer): boolean {
  return icc.length < 4096 && icc.includes(Buffer.from('\0s\0R\0G\0B', 'latin1'));
}

test('a 2 GiB iCCP bomb opens with a notice, restores and downloads', async ({ page }) => {
  const file = scratchPath('icc-bomb.png');
  fs.writeFileSync(file, (await iccBombPng(16, 12, 2 * 2 ** 30)).bytes);
  expect(fs.statSync(file).size).toBeLessThan(4 << 20);

  // The command line reads the same file (sharp ignores the oversized profile).
  const reference = cliUpscale(file, 'esrgan-slim-x2');
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  const started = Date.now();
  await openFile(page, file);
  await expect(
    page.getByText('The colour profile is larger than 16 MB: it was left out.'),
  ).toBeVisible({ timeout: 20_000 });
  const opened = Date.now() - started;
  console.log(`bomb opened, notice shown after ${opened} ms`);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('32x24');

  // The page still answers quickly while and after it saves.
  for (const format of ['png', 'jpeg'] as const) {
    await page.getByTestId('format-select').selectOption(format);
    const clicked = Date.now();
    const { file: saved } = await download(page, `icc-bomb@2x.${format}`);
    const ms = Date.now() - clicked;
    const probe = Date.now();
    await page.evaluate(() => 1);
    console.log(`${format} download ${ms} ms, page answered in ${Date.now() - probe} ms`);
    expect(ms).toBeLessThan(20_000);
    const meta = await sharp(saved).metadata();
    expect([meta.width, meta.height]).toEqual([32, 24]);
    // Untagged, or tagged sRGB by the browser's JPEG encoder: nothing of the bomb.
    if (meta.icc) expect(isSrgbProfile(meta.icc)).toBe(true);
    if (format === 'png') {
      const diff = maxChannelDiff(await readRgba(saved), await readRgba(await reference));
      console.log(`png download vs CLI result ${diff}/255`);
      expect(diff).toBeLessThanOrEqual(2);
    }
  }
});
