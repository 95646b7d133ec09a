/**
 * Metadata carried from a source to a result: the EXIF block and ICC profile are read from JPEG,
 * PNG and WebP sources, and written into PNG, JPEG and WebP results (orientation dropped, pixel
 * dimensions updated). Files are made and read back with sharp and exifr; the pixels must survive.
 */
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readMetadata } from '../src/features/inputs/metadata/image-metadata.ts';
import { writeMetadata } from '../src/features/inputs/metadata/write-metadata.ts';

const W = 24;
const H = 16;

async function source(format: 'jpeg' | 'png' | 'webp'): Promise<Uint8Array> {
  const image = sharp({ create: { width: W, height: H, channels: 3, background: '#7a4' } })
    .withExif({
      IFD0: { Make: 'GenDR', Model: 'Unit Camera' },
      IFD2: { DateTimeOriginal: '2023:01:02 03:04:05' },
    })
    .withMetadata({ orientation: 8 })
    .withIccProfile('p3');
  return new Uint8Array(await image.toFormat(format).toBuffer());
}

/** A result as a canvas would encode it: same format family, no metadata. */
async function bareResult(format: 'png' | 'jpeg' | 'webp', alpha = false): Promise<Uint8Array> {
  const image = sharp({
    create: {
      width: 48,
      height: 32,
      channels: alpha ? 4 : 3,
      background: { r: 10, g: 200, b: 90, alpha: 0.5 },
    },
  });
  const options = format === 'webp' ? { lossless: alpha } : {};
  return new Uint8Array(await image.toFormat(format, options).toBuffer());
}

function tiffOf(exif: Buffer | undefined): Buffer | undefined {
  return exif?.subarray(exif.toString('latin1', 0, 4) === 'Exif' ? 6 : 0);
}

describe('readMetadata', () => {
  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`finds the EXIF block and ICC profile in a ${format} and describes them`, async () => {
      const bytes = await source(format);
      const reference = await sharp(bytes).metadata();
      const meta = await readMetadata(format, bytes);
      expect(Buffer.compare(Buffer.from(meta.icc!), reference.icc!)).toBe(0);
      expect(Buffer.compare(Buffer.from(meta.exif!), tiffOf(reference.exif)!)).toBe(0);
      expect(meta.orientation).toBe(8);
      expect(meta.camera).toBe('GenDR Unit Camera, 2023-01-02 03:04');
      expect(meta.profile).toBeTruthy();
    });
  }

  it('returns nothing for a file without metadata', async () => {
    const meta = await readMetadata('png', await bareResult('png'));
    expect([meta.exif, meta.icc, meta.camera]).toEqual([null, null, null]);
  });
});

describe('writeMetadata', () => {
  const cases = [
    ['png', false],
    ['png', true],
    ['jpeg', false],
    ['webp', false],
    ['webp', true],
  ] as const;
  for (const [format, alpha] of cases) {
    it(`writes EXIF (minus orientation) and ICC into a ${format}${alpha ? ' with alpha' : ''}`, async () => {
      const src = await source('jpeg');
      const meta = await readMetadata('jpeg', src);
      const result = await bareResult(format, alpha);
      const { bytes, kept, dropped } = writeMetadata(
        result,
        format,
        { width: 48, height: 32 },
        meta,
      );
      expect(kept).toEqual(['EXIF', 'ICC profile']);
      expect(dropped).toEqual([]);

      const info = await sharp(bytes).metadata();
      expect([info.format, info.width, info.height]).toEqual([format, 48, 32]);
      expect(info.orientation ?? 1).toBe(1);
      expect(Buffer.compare(info.icc!, Buffer.from(meta.icc!))).toBe(0);
      const tags = (await exifr.parse(tiffOf(info.exif)!, { translateValues: false })) as Record<
        string,
        unknown
      >;
      expect(tags.Make).toBe('GenDR');
      expect(tags.Model).toBe('Unit Camera');
      expect(tags.Orientation).toBeUndefined();
      expect((tags.DateTimeOriginal as Date).toISOString()).toBe('2023-01-02T03:04:05.000Z');
      expect([tags.ExifImageWidth, tags.ExifImageHeight]).toEqual([48, 32]);
      // The image data is untouched.
      // (ignoreIcc: compare the stored values, not their conversion through the new profile.)
      const before = await sharp(result, { ignoreIcc: true }).raw().toBuffer();
      const after = await sharp(bytes, { ignoreIcc: true }).raw().toBuffer();
      expect(Buffer.compare(before, after)).toBe(0);
      expect(info.hasAlpha).toBe(alpha);
    });
  }

  it('leaves a result untouched when there is nothing to write', async () => {
    const result = await bareResult('png');
    const out = writeMetadata(result, 'png', { width: 48, height: 32 }, { exif: null, icc: null });
    expect(out.bytes).toBe(result);
    expect(out.kept).toEqual([]);
  });

  it('drops an EXIF block it cannot parse, with the reason, and keeps the ICC profile', async () => {
    const meta = await readMetadata('jpeg', await source('jpeg'));
    const out = writeMetadata(
      await bareResult('png'),
      'png',
      { width: 48, height: 32 },
      {
        exif: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
        icc: meta.icc,
      },
    );
    expect(out.kept).toEqual(['ICC profile']);
    expect(out.dropped[0]).toMatch(/^EXIF \(/);
    expect((await sharp(out.bytes).metadata()).icc).toBeDefined();
  });
});
