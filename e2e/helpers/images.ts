/**
 * Inputs and pixel comparisons for the browser tests. The photo is the shared chelsea.png, or,
 * where the shared folder is missing, a generated photo-like image of the same size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { syntheticPhoto } from '../../test/helpers/rgba-images.ts';
import { hasShared, sharedPath } from '../../test/helpers/shared.ts';

export interface RawImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  data: Buffer;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-e2e-'));

export function scratchPath(name: string): string {
  return path.join(scratch, name);
}

/** chelsea.png (451x300) from the shared folder, else a generated stand-in of that size. */
export async function photoPath(): Promise<{ file: string; generated: boolean }> {
  if (hasShared('images', 'chelsea.png'))
    return { file: sharedPath('images', 'chelsea.png'), generated: false };
  const file = scratchPath('chelsea.png');
  if (!fs.existsSync(file)) {
    const image = syntheticPhoto(451, 300, 7);
    await sharp(Buffer.from(image.data.buffer), { raw: { width: 451, height: 300, channels: 4 } })
      .png()
      .toFile(file);
  }
  return { file, generated: true };
}

/** A 48x48 crop of the photo (WebGPU on a software adapter is far too slow for more). */
export async function smallPhotoPath(): Promise<string> {
  const file = scratchPath('small48.png');
  if (!fs.existsSync(file)) {
    const { file: photo } = await photoPath();
    await sharp(photo).extract({ left: 200, top: 100, width: 48, height: 48 }).png().toFile(file);
  }
  return file;
}

export async function readRgba(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** The largest difference of any channel of any pixel, in 0..255 levels. */
export function maxChannelDiff(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (d > max) max = d;
  }
  return max;
}
