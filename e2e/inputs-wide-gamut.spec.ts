/**
 * Wide-gamut photos (a Display P3 JPEG, an Adobe RGB PNG) are converted to sRGB on decoding in the
 * page as on the command line: the pixels the page decodes (the before view, drawn from the same
 * bitmap the restore worker reads) match the command line's decoder, the download is untagged
 * sRGB and matches the command line's result.
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { adobeRgbProfile, colourChart } from '../test/helpers/crafted-inputs.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { maxChannelDiff, readRgba, scratchPath } from './helpers/images.ts';
import { sharedImage } from './helpers/inputs.ts';
import { cliUpscale } from './helpers/reference.ts';

const H = 24;
const MODEL = 'esrgan-slim-x2';

async function wideGamutFiles() {
  const adobe = scratchPath('adobe-rgb.icc');
  fs.writeFileSync(adobe, adobeRgbProfile());
  // Different widths, so each file's result is told apart by its size.
  const chart = (width: number) =>
    sharp(colourChart(width, H), { raw: { width, height: H, channels: 3 } });
  const p3 = scratchPath('chart-p3.jpg');
  await chart(32)
    .withIccProfile('p3')
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toFile(p3);
  const adobePng = scratchPath('chart-adobe.png');
  await chart(40).withIccProfile(adobe).png().toFile(adobePng);
  return {
    'Display P3 JPEG': { file: p3, width: 32 },
    'Adobe RGB PNG': { file: adobePng, width: 40 },
  };
}

/** The before view's pixels, as the page decoded them. */
async function beforePixels(page: Page, width: number, height = H) {
  const data = await page
    .getByTestId('before-layer')
    .locator('canvas')
    .evaluate((node) => {
      const canvas = node as HTMLCanvasElement;
      const context = canvas.getContext('2d')!;
      return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
    });
  return { width, height, data: Buffer.from(data) };
}

/** The browser's own sRGB profile (Chromium tags JPEGs with it): described "sRGB", in UTF-16. */
function isSrgbProfile(icc: Buffer): boolean {
  return icc.length < 4096 && icc.includes(Buffer.from('\0s\0R\0G\0B', 'latin1'));
}

test('P3 and Adobe RGB sources are decoded to sRGB like the command line, saved untagged', async ({
  page,
}) => {
  const files = await wideGamutFiles();
  const references = Object.fromEntries(
    Object.entries(files).map(([label, { file }]) => [label, cliUpscale(file, MODEL)]),
  );
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  for (const [label, { file, width: W }] of Object.entries(files)) {
    await test.step(label, async () => {
      await openFile(page, file);
      await waitForResult(page);
      await expect(page.getByTestId('result-size')).toHaveText(`${W * 2}x${H * 2}`);
      await expect(page.getByText(/Colours converted to sRGB from its .+ profile/)).toBeVisible();

      const cli = await decodeImage(file);
      const cliRgba = { width: W, height: H, data: Buffer.from(cli.data.buffer) };
      const stored = await sharp(file).keepIccProfile().ensureAlpha().raw().toBuffer();
      const page8 = await beforePixels(page, W);
      const vsCli = maxChannelDiff(page8, cliRgba);
      const vsStored = maxChannelDiff(page8, { width: W, height: H, data: stored });
      console.log(
        `${label}: page vs CLI decode ${vsCli}/255, page vs stored values ${vsStored}/255`,
      );
      expect(vsStored).toBeGreaterThan(40);
      expect(vsCli).toBeLessThanOrEqual(2);

      for (const format of ['jpeg', 'png'] as const) {
        await page.getByTestId('format-select').selectOption(format);
        const meta = await sharp((await download(page, `${label}@2x.${format}`)).file).metadata();
        // Untagged, or tagged sRGB by the browser's JPEG encoder: never the source's profile.
        if (meta.icc) expect(isSrgbProfile(meta.icc)).toBe(true);
      }
      const saved = scratchPath(`${label}@2x.png`);
      const vsCliResult = maxChannelDiff(
        await readRgba(saved),
        await readRgba(await references[label]),
      );
      console.log(`${label}: download vs CLI result ${vsCliResult}/255`);
      expect(vsCliResult).toBeLessThanOrEqual(2);
    });
  }
});

test('an sRGB-tagged photo (chelsea.png, HP sRGB profile) decodes to its stored values', async ({
  page,
}) => {
  const input = sharedImage('chelsea.png');
  test.skip('skip' in input, 'skip' in input ? input.skip : '');
  if (!('file' in input)) return;
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, input.file);
  await expect(page.getByTestId('before-layer').locator('canvas')).toHaveCount(1);
  const { width, height } = await sharp(input.file).metadata();
  const page8 = await beforePixels(page, width!, height!);
  const cli = await decodeImage(input.file);
  const stored = await sharp(input.file).keepIccProfile().ensureAlpha().raw().toBuffer();
  const vsCli = maxChannelDiff(page8, {
    width: cli.width,
    height: cli.height,
    data: Buffer.from(cli.data.buffer),
  });
  const vsStored = maxChannelDiff(page8, { width: width!, height: height!, data: stored });
  console.log(
    `chelsea.png: page vs CLI decode ${vsCli}/255, page vs stored values ${vsStored}/255`,
  );
  expect(vsCli).toBeLessThanOrEqual(1);
  expect(vsStored).toBeLessThanOrEqual(1);
});
