/**
 * Real-world inputs (issue 6): every raster format the browser decodes, GIF (first frame, with a
 * notice), SVG (rasterised at its intrinsic size, or refused), EXIF orientation, gray / palette /
 * 16-bit PNGs, alpha, tiny images. Each case asserts what the user sees.
 */
import { expect, test, type Page } from '@playwright/test';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { maxChannelDiff, readRgba } from './helpers/images.ts';
import {
  formatFiles,
  orientedJpeg,
  sharedImage,
  opaqueDiff,
  textFile,
  transparentPng,
} from './helpers/inputs.ts';
import { cliUpscale } from './helpers/reference.ts';

const MODEL = 'esrgan-slim-x2';

async function slimApp(page: Page) {
  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
}

async function restoreFile(page: Page, file: string, expectedSize: string) {
  await openFile(page, file);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText(expectedSize);
}

test('PNG, JPEG, WebP, AVIF and BMP all open and restore', async ({ page }) => {
  const files = await formatFiles(24, 16);
  await slimApp(page);
  for (const [format, file] of Object.entries(files)) {
    await test.step(format, async () => {
      await restoreFile(page, file, '48x32');
      await expect(page.getByTestId('source-error')).toHaveCount(0);
    });
  }
  // The lossless ones match the command line's output for the same pixels.
  const png = await readRgba((await download(page, 'bmp@2x.png')).file);
  const expected = await readRgba(await cliUpscale(files.png, MODEL));
  expect(maxChannelDiff(png, expected)).toBeLessThanOrEqual(2);
});

test('a GIF is restored from its first frame, and the app says so', async ({ page }) => {
  const gif = sharedImage('no_time_for_that_tiny.gif');
  test.skip('skip' in gif, 'skip' in gif ? gif.skip : '');
  if (!('file' in gif)) return;
  await slimApp(page);
  await restoreFile(page, gif.file, '28x50');
  await expect(page.getByText(/only the first frame is restored/)).toBeVisible();
});

test('an SVG is rasterised at its intrinsic size; one without a size is refused with the reason', async ({
  page,
}) => {
  const sized = textFile(
    'badge.svg',
    '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20" fill="#e33"/><circle cx="15" cy="10" r="6" fill="#fff"/></svg>',
  );
  const unsized = textFile(
    'unsized.svg',
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20"><rect width="30" height="20" fill="#3e3"/></svg>',
  );
  await slimApp(page);
  await restoreFile(page, sized, '60x40');
  await expect(page.getByText('SVG rasterised at 30 × 20 px.')).toBeVisible();

  await openFile(page, unsized);
  await expect(page.getByTestId('source-error')).toHaveText(
    '“unsized.svg” is an SVG that cannot be rasterised: its <svg> element sets no width and height, so it has no intrinsic size.',
  );
});

test('EXIF orientation is applied: a sideways JPEG comes out upright', async ({ page }) => {
  const file = await orientedJpeg();
  await slimApp(page);
  await restoreFile(page, file, '32x48');
  await expect(page.getByTestId('source-info')).toContainText('16 × 24');
  await expect(page.getByText('Turned upright from its EXIF orientation (6).')).toBeVisible();
  const out = await readRgba((await download(page, 'sideways@2x.png')).file);
  const at = (x: number, y: number) => [
    ...out.data.subarray((y * out.width + x) * 4, (y * out.width + x) * 4 + 3),
  ];
  // Stored top-left (red) is the top-right once turned 90° clockwise.
  const [r1, , b1] = at(out.width - 4, 4);
  const [r2, , b2] = at(4, 4);
  expect(r1).toBeGreaterThan(150);
  expect(b1).toBeLessThan(100);
  expect(b2).toBeGreaterThan(150);
  expect(r2).toBeLessThan(100);
});

for (const [name, size] of [
  ['text.png', '896x344'],
  ['foo3x5x4indexed.png', '10x6'],
  ['chessboard_RGB.png', '400x400'],
] as const) {
  test(`${name} (gray / palette / 16-bit) comes out like the command line's`, async ({ page }) => {
    const input = sharedImage(name);
    test.skip('skip' in input, 'skip' in input ? input.skip : '');
    if (!('file' in input)) return;
    const reference = cliUpscale(input.file, MODEL);
    await slimApp(page);
    await restoreFile(page, input.file, size);
    const out = await readRgba((await download(page, `${name}@2x.png`)).file);
    expect(maxChannelDiff(out, await readRgba(await reference))).toBeLessThanOrEqual(2);
  });
}

/** Alpha statistics of an RGBA image: fully transparent, fully opaque, opaque-but-black pixels. */
function alphaStats(image: { data: Buffer }) {
  const stats = { transparent: 0, opaque: 0, blackOpaque: 0, pixels: image.data.length / 4 };
  for (let i = 0; i < image.data.length; i += 4) {
    if (image.data[i + 3] === 0) stats.transparent++;
    if (image.data[i + 3] === 255) {
      stats.opaque++;
      if (image.data[i] + image.data[i + 1] + image.data[i + 2] < 8) stats.blackOpaque++;
    }
  }
  return stats;
}

test('alpha is upscaled cleanly: transparent stays transparent, edges are not blackened', async ({
  page,
}) => {
  const file = await transparentPng();
  const reference = cliUpscale(file, MODEL);
  await slimApp(page);
  await restoreFile(page, file, '96x64');
  const out = await readRgba((await download(page, 'ellipse@2x.png')).file);
  const expected = await readRgba(await reference);
  const got = alphaStats(out);
  const want = alphaStats(expected);
  // The corners outside the ellipse are transparent, about a quarter of it is opaque,
  // and no opaque pixel went black: the alpha channel was kept and restored.
  expect(got.transparent).toBeGreaterThan(got.pixels * 0.1);
  expect(got.opaque).toBeGreaterThan(got.pixels * 0.2);
  expect(got.blackOpaque).toBe(0);
  expect(Math.abs(got.transparent - want.transparent)).toBeLessThanOrEqual(got.pixels * 0.01);
  // Same as the command line, allowing for the canvas's 8-bit premultiplied storage at the
  // soft edge (pixels with alpha under 255).
  const { colour, alpha } = opaqueDiff(out, expected);
  expect(colour).toBeLessThanOrEqual(2);
  expect(alpha).toBeLessThanOrEqual(2);
});

for (const name of ['horse.png', 'logo.png']) {
  test(`${name} (RGBA): the alpha channel is kept and the colours are not blackened`, async ({
    page,
  }) => {
    const input = sharedImage(name);
    test.skip('skip' in input, 'skip' in input ? input.skip : '');
    if (!('file' in input)) return;
    const reference = cliUpscale(input.file, MODEL);
    await slimApp(page);
    await openFile(page, input.file);
    await waitForResult(page);
    const out = await readRgba((await download(page, `${name}@2x.png`)).file);
    const expected = await readRgba(await reference);
    const got = alphaStats(out);
    const want = alphaStats(expected);
    expect(Math.abs(got.opaque - want.opaque)).toBeLessThanOrEqual(got.pixels * 0.001);
    expect(got.blackOpaque).toBeLessThanOrEqual(want.blackOpaque + got.pixels * 0.001);
    expect(maxChannelDiff(out, expected)).toBeLessThanOrEqual(2);
  });
}

for (const [name, size] of [
  ['block.png', '20x20'],
  ['foo3x5x4indexed.png', '10x6'],
] as const) {
  test(`a tiny input (${name}) restores`, async ({ page }) => {
    const input = sharedImage(name);
    test.skip('skip' in input, 'skip' in input ? input.skip : '');
    if (!('file' in input)) return;
    await slimApp(page);
    await restoreFile(page, input.file, size);
    await expect(page.getByTestId('download-button')).toBeEnabled();
  });
}
