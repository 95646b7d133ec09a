/**
 * Inputs for the real-world input tests, made with sharp (and by hand where sharp cannot write the
 * format, or where the point is a broken or misleading file). All files go to the scratch folder.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { syntheticPhoto, withEllipseAlpha } from '../../test/helpers/rgba-images.ts';
import { hasShared, missingShared, sharedPath } from '../../test/helpers/shared.ts';
import { scratchPath } from './images.ts';

/** A shared image, or null with the message to skip with. */
export function sharedImage(name: string): { file: string } | { skip: string } {
  return hasShared('images', name)
    ? { file: sharedPath('images', name) }
    : { skip: missingShared('images', name) };
}

/** A photo-like RGB image as raw RGBA (deterministic). */
export function photoPixels(width: number, height: number, seed = 3): Buffer {
  return Buffer.from(syntheticPhoto(width, height, seed).data.buffer);
}

export function rawInput(width: number, height: number, seed = 3) {
  return sharp(photoPixels(width, height, seed), { raw: { width, height, channels: 4 } });
}

/** A 24-bit bottom-up BMP (sharp cannot write BMP). */
export function bmpFile(name: string, width: number, height: number, rgba: Buffer): string {
  const row = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + row * height;
  const out = Buffer.alloc(size);
  out.write('BM', 0, 'ascii');
  out.writeUInt32LE(size, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++) {
    const at = 54 + (height - 1 - y) * row;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      out[at + x * 3] = rgba[i + 2];
      out[at + x * 3 + 1] = rgba[i + 1];
      out[at + x * 3 + 2] = rgba[i];
    }
  }
  const file = scratchPath(name);
  fs.writeFileSync(file, out);
  return file;
}

/** The same small photo in each raster format the app accepts. */
export async function formatFiles(width = 24, height = 16) {
  const base = rawInput(width, height);
  const files: Record<string, string> = {};
  for (const [format, ext] of [
    ['png', 'png'],
    ['jpeg', 'jpg'],
    ['webp', 'webp'],
    ['avif', 'avif'],
  ] as const) {
    const file = scratchPath(`format.${ext}`);
    await base
      .clone()
      .toFormat(format, format === 'png' ? {} : { quality: 90 })
      .toFile(file);
    files[format] = file;
  }
  files.bmp = bmpFile('format.bmp', width, height, photoPixels(width, height));
  return files;
}

/**
 * A 24x16 JPEG stored sideways with EXIF orientation 6 (rotate 90° clockwise to view): its stored
 * top-left quadrant is red, so upright the red is in the top-right corner.
 */
export async function orientedJpeg(): Promise<string> {
  const width = 24;
  const height = 16;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const red = x < width / 2 && y < height / 2;
      data.set(red ? [230, 20, 20, 255] : [20, 60, 230, 255], i);
    }
  }
  const file = scratchPath('sideways.jpg');
  await sharp(data, { raw: { width, height, channels: 4 } })
    .withMetadata({ orientation: 6 })
    .jpeg({ quality: 95 })
    .toFile(file);
  return file;
}

/**
 * A 32x24 JPEG with EXIF (camera, date, pixel dimensions, orientation 6: shown upright as 24x32)
 * and a Display P3 ICC profile.
 */
export async function jpegWithMetadata(): Promise<string> {
  const file = scratchPath('camera.jpg');
  await rawInput(32, 24)
    .withExif({
      IFD0: { Make: 'GenDR', Model: 'Test Camera' },
      IFD2: { DateTimeOriginal: '2024:05:01 10:22:33' },
    })
    .withMetadata({ orientation: 6 })
    .withIccProfile('p3')
    .jpeg({ quality: 92 })
    .toFile(file);
  return file;
}

/**
 * A PNG whose header declares `width` x `height` (a real, complete PNG: one zlib stream of
 * zero rows, highly compressible). Huge sizes give a small file.
 */
export async function flatPng(name: string, width: number, height: number): Promise<string> {
  const file = scratchPath(name);
  if (!fs.existsSync(file)) {
    await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 160 } } })
      .png({ compressionLevel: 9 })
      .toFile(file);
  }
  return file;
}

/** A tiny PNG that declares enormous dimensions (100000 x 100000) but holds almost no data. */
export async function lyingPng(): Promise<string> {
  const real = await sharp({
    create: { width: 4, height: 4, channels: 3, background: { r: 0, g: 0, b: 0 } },
  })
    .png()
    .toBuffer();
  // Patch IHDR's width/height (bytes 16-23) and its CRC.
  const bytes = Buffer.from(real);
  bytes.writeUInt32BE(100000, 16);
  bytes.writeUInt32BE(100000, 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
  const file = scratchPath('lying-100000.png');
  fs.writeFileSync(file, bytes);
  return file;
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

export function textFile(name: string, text: string): string {
  const file = scratchPath(name);
  fs.writeFileSync(file, text);
  return file;
}

export function emptyFile(name: string): string {
  const file = scratchPath(name);
  fs.writeFileSync(file, Buffer.alloc(0));
  return file;
}

/** Small PNGs for the queue tests (distinct content, distinct names). */
export async function smallPngs(names: readonly string[], size = 20): Promise<string[]> {
  const files: string[] = [];
  for (const [i, name] of names.entries()) {
    const file = scratchPath(name);
    await rawInput(size, size, 11 + i)
      .png()
      .toFile(file);
    files.push(file);
  }
  return files;
}

/** A 48x32 photo inside an elliptical alpha mask (transparent corners, soft edge). */
export async function transparentPng(): Promise<string> {
  const file = scratchPath('ellipse.png');
  const image = withEllipseAlpha(syntheticPhoto(48, 32, 5));
  await sharp(Buffer.from(image.data.buffer), { raw: { width: 48, height: 32, channels: 4 } })
    .png()
    .toFile(file);
  return file;
}

/**
 * Largest difference of the colour channels where both images are opaque, and of the alpha
 * channel everywhere (colours under partial alpha lose precision in a premultiplied canvas).
 */
export function opaqueDiff(
  a: { width: number; height: number; data: Buffer },
  b: { width: number; height: number; data: Buffer },
): { colour: number; alpha: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error('sizes differ');
  let colour = 0;
  let alpha = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    alpha = Math.max(alpha, Math.abs(a.data[i + 3] - b.data[i + 3]));
    if (a.data[i + 3] === 255 && b.data[i + 3] === 255) {
      for (let c = 0; c < 3; c++)
        colour = Math.max(colour, Math.abs(a.data[i + c] - b.data[i + c]));
    }
  }
  return { colour, alpha };
}
