/**
 * Metadata: the photo's EXIF (minus orientation) is kept in the PNG, JPEG and WebP results, read
 * back here with sharp and exifr; unticking "Keep" strips it. Its ICC profile is not carried over:
 * the pixels were converted to sRGB on decoding (docs/inputs-batch-faults.md).
 */
import { expect, test, type Page } from '@playwright/test';
import exifr from 'exifr';
import sharp from 'sharp';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { jpegWithMetadata } from './helpers/inputs.ts';

interface Tags {
  Make?: string;
  Model?: string;
  Orientation?: number;
  DateTimeOriginal?: Date;
  ExifImageWidth?: number;
  ExifImageHeight?: number;
}

async function savedAs(page: Page, format: 'png' | 'jpeg' | 'webp', name: string) {
  await page.getByTestId('format-select').selectOption(format);
  const { file, suggested } = await download(page, name);
  const meta = await sharp(file).metadata();
  // sharp gives the EXIF block with JPEG's "Exif\0\0" header; exifr reads the TIFF data after it.
  const exif = meta.exif?.subarray(meta.exif.toString('latin1', 0, 4) === 'Exif' ? 6 : 0);
  const tags = exif
    ? ((await exifr.parse(exif, { tiff: true, translateValues: false })) as Tags)
    : null;
  return { file, suggested, meta, tags };
}

test('EXIF (minus orientation) is kept in PNG, JPEG and WebP, the ICC profile is not; strip removes EXIF', async ({
  page,
}) => {
  const input = await jpegWithMetadata();
  const source = await sharp(input).metadata();
  expect(source.orientation).toBe(6);
  expect(source.icc?.length).toBeGreaterThan(0);

  await openApp(page);
  await chooseModel(page, 'esrgan-slim', 2);
  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('48x64');
  await expect(page.getByTestId('metadata-summary')).toHaveText(
    /Metadata: EXIF \(GenDR Test Camera, 2024-05-01 10:22\), colour profile \(.+, converted to sRGB for the result\)\./,
  );
  await expect(page.getByTestId('keep-metadata')).toBeChecked();

  for (const format of ['png', 'jpeg', 'webp'] as const) {
    await test.step(format, async () => {
      const { meta, tags } = await savedAs(page, format, `camera-kept.${format}`);
      expect(meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([48, 64]);
      // The pixels are upright already: no orientation (or 1) in the result.
      expect(meta.orientation ?? 1).toBe(1);
      expect(tags?.Orientation ?? 1).toBe(1);
      expect(tags?.Make).toBe('GenDR');
      expect(tags?.Model).toBe('Test Camera');
      expect(tags?.DateTimeOriginal?.toISOString()).toBe('2024-05-01T10:22:33.000Z');
      expect([tags?.ExifImageWidth, tags?.ExifImageHeight]).toEqual([48, 64]);
      // sRGB pixels: untagged, or the browser encoder's own sRGB profile, never the photo's P3.
      if (meta.icc) expect(Buffer.compare(meta.icc, source.icc!)).not.toBe(0);
    });
  }

  await page.getByTestId('keep-metadata').uncheck();
  for (const format of ['png', 'jpeg'] as const) {
    await test.step(`${format}, stripped`, async () => {
      const { meta } = await savedAs(page, format, `camera-stripped.${format}`);
      expect(meta.exif).toBeUndefined();
      // The browser's encoder may tag its own sRGB profile; the photo's profile is gone.
      if (meta.icc) expect(Buffer.compare(meta.icc, source.icc!)).not.toBe(0);
      expect([meta.width, meta.height]).toEqual([48, 64]);
    });
  }
});
