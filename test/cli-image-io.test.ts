/**
 * Decoding and encoding for the command line (tools/image-io, sharp): everything becomes 8-bit
 * RGBA, EXIF orientation is applied, broken files throw, output formats follow the extension.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../tools/image-io/decode.ts';
import { encodeImage, formatForPath, writeImage } from '../tools/image-io/encode.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';
import { syntheticPhoto, withEllipseAlpha } from './helpers/rgba-images.ts';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gendr-io-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('turns 16-bit RGB into 8-bit RGBA', async () => {
    // 2x1 RGB written as 16 bits per channel: (255, 0, 128) -> (65535, 0, 32896).
    const file = path.join(dir, 'deep.png');
    await sharp(Buffer.from([255, 0, 128, 0, 255, 0]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .toColourspace('rgb16')
      .png()
      .toFile(file);
    expect((await sharp(file).metadata()).depth).toBe('ushort');
    const img = await decodeImage(file);
    expect([img.width, img.height, ...img.data]).toEqual([2, 1, 255, 0, 128, 255, 0, 255, 0, 255]);
  });

  it('turns gray and palette images into RGBA', async () => {
    const gray = path.join(dir, 'gray.png');
    await sharp(Buffer.from([0, 100, 200]), { raw: { width: 3, height: 1, channels: 1 } })
      .png()
      .toFile(gray);
    expect([...(await decodeImage(gray)).data]).toEqual([
      0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255,
    ]);

    const pal = path.join(dir, 'pal.png');
    await sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
      .png({ palette: true })
      .toFile(pal);
    expect((await sharp(pal).metadata()).isPalette).toBe(true);
    expect([...(await decodeImage(pal)).data]).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  });

  it('applies EXIF orientation', async () => {
    const file = path.join(dir, 'rotated.jpg');
    // Stored 40x20; orientation 6 means "rotate 90° clockwise to display" -> 20x40.
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(file);
    const img = await decodeImage(file);
    expect([img.width, img.height]).toEqual([20, 40]);
  });

  it('throws on a file that is not an image', async () => {
    const file = path.join(dir, 'junk.png');
    await fs.writeFile(file, 'junk');
    await expect(decodeImage(file)).rejects.toThrow();
  });

  it.skipIf(!hasShared('images', 'truncated.jpg'))('throws on a truncated JPEG', async () => {
    await expect(decodeImage(sharedPath('images', 'truncated.jpg'))).rejects.toThrow(
      /JPEG|corrupt/i,
    );
  });
  if (!hasShared('images')) it.skip(missingShared('images'), () => {});

  it.skipIf(!hasShared('images', 'foo3x5x4indexed.png'))(
    'reads the shared palette and 16-bit files',
    async () => {
      const pal = await decodeImage(sharedPath('images', 'foo3x5x4indexed.png'));
      expect([pal.width, pal.height, pal.data.length]).toEqual([5, 3, 60]);
      const deep = await decodeImage(sharedPath('images', 'chessboard_RGB.png'));
      expect(deep.data.length).toBe(deep.width * deep.height * 4);
    },
  );
});

describe('encodeImage / writeImage', () => {
  it('picks the format from the extension', () => {
    expect(['a.png', 'b.WEBP', 'c.jpg', 'd.jpeg', 'e.gif'].map(formatForPath)).toEqual([
      'png',
      'webp',
      'jpeg',
      'jpeg',
      null,
    ]);
  });

  it('round-trips PNG losslessly, alpha included', async () => {
    const image = withEllipseAlpha(syntheticPhoto(30, 20));
    const file = path.join(dir, 'rt.png');
    await writeImage(image, file);
    const back = await decodeImage(file);
    expect(back.data).toEqual(image.data);
  });

  it('writes WebP and JPEG (flattened on white)', async () => {
    const image = withEllipseAlpha(syntheticPhoto(30, 20));
    const webp = await sharp(await encodeImage(image, 'webp')).metadata();
    expect([webp.format, webp.hasAlpha]).toEqual(['webp', true]);
    const jpeg = await decodeImage(await encodeImage(image, 'jpeg'));
    expect([...jpeg.data.subarray(0, 4)].every((v) => v > 245)).toBe(true);
    await expect(writeImage(image, path.join(dir, 'x.gif'))).rejects.toThrow(
      /unsupported output extension/,
    );
  });
});
