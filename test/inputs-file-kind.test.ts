/** Identifying dropped files from their bytes, with specific reasons for the ones the app refuses. */
import fs from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  identifyFile,
  ImageDecodeError,
  looksLikeText,
  sniffKind,
} from '../src/features/inputs/file-kind.ts';
import { svgIntrinsicSize } from '../src/features/inputs/svg.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';

const tiny = (format: 'png' | 'jpeg' | 'webp' | 'avif' | 'gif') =>
  sharp({ create: { width: 7, height: 5, channels: 3, background: '#369' } })
    .toFormat(format)
    .toBuffer()
    .then((b) => new Uint8Array(b));

function refusal(bytes: Uint8Array, name: string): string {
  try {
    identifyFile(bytes, name);
  } catch (error) {
    expect(error).toBeInstanceOf(ImageDecodeError);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('identifyFile', () => {
  it('knows PNG, JPEG, WebP, AVIF and GIF from their bytes, with the declared size', async () => {
    for (const format of ['png', 'jpeg', 'webp', 'avif', 'gif'] as const) {
      const info = identifyFile(await tiny(format), `x.${format}`);
      expect(info.kind).toBe(format);
      expect(info.declared).toEqual({ width: 7, height: 5 });
    }
  });

  it('refuses an empty file', () => {
    expect(refusal(new Uint8Array(0), 'e.png')).toBe('“e.png” is empty (0 bytes).');
  });

  it('refuses a text file renamed .png, naming the mismatch', () => {
    const text = new TextEncoder().encode('hello, this is text\n');
    expect(looksLikeText(text)).toBe(true);
    expect(refusal(text, 'notes.png')).toMatch(/^“notes\.png” is a text file, not a PNG image/);
  });

  it('refuses unknown binary data', () => {
    expect(refusal(new Uint8Array([0, 1, 2, 3, 250, 251, 0, 9]), 'blob.jpg')).toMatch(
      /is not in an image format this app knows \(its content is not JPG\)/,
    );
  });

  it('refuses a PNG cut short, and one whose chunks are garbage', async () => {
    const png = await tiny('png');
    expect(refusal(png.subarray(0, png.length - 20), 'cut.png')).toMatch(
      /could not be opened as an image: it is damaged or truncated \(the (IDAT|IEND) chunk is cut off|the file ends before the PNG end marker/,
    );
    const garbage = new Uint8Array([...png.subarray(0, 8), ...new Uint8Array(64).fill(7)]);
    expect(refusal(garbage, 'junk.png')).toMatch(/its PNG chunk structure is broken/);
  });

  it('refuses the shared truncated JPEG', (ctx) => {
    if (!hasShared('images', 'truncated.jpg'))
      return ctx.skip(missingShared('images', 'truncated.jpg'));
    const bytes = new Uint8Array(fs.readFileSync(sharedPath('images', 'truncated.jpg')));
    expect(sniffKind(bytes)).toBe('jpeg');
    expect(refusal(bytes, 'truncated.jpg')).toBe(
      '“truncated.jpg” could not be opened as an image: it is damaged or truncated (the JPEG data ends before its end-of-image marker; 400 bytes). Save or download it again.',
    );
  });

  it('reads enormous declared dimensions from a tiny header without decoding', async () => {
    const png = Buffer.from(await tiny('png'));
    png.writeUInt32BE(100000, 16);
    png.writeUInt32BE(90000, 20);
    expect(identifyFile(new Uint8Array(png), 'big.png').declared).toEqual({
      width: 100000,
      height: 90000,
    });
  });

  it('recognises SVG and reads its intrinsic size, or says why it has none', () => {
    const svg =
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="2in" height="30"></svg>';
    expect(sniffKind(new TextEncoder().encode(svg))).toBe('svg');
    expect(svgIntrinsicSize(svg)).toEqual({ width: 192, height: 30 });
    expect(svgIntrinsicSize('<svg viewBox="0 0 10 10"></svg>')).toMatch(/no intrinsic size/);
    expect(svgIntrinsicSize('<svg width="100%" height="50%"></svg>')).toMatch(
      /not absolute lengths/,
    );
  });
});
