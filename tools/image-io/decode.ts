/**
 * Decodes image files (PNG, JPEG, WebP, GIF, TIFF, AVIF, ... whatever sharp reads) to 8-bit RGBA.
 *
 * - EXIF orientation is applied, so the pixels are the way the photo is meant to be seen.
 * - Grayscale, palette, CMYK and 16-bit images become 8-bit sRGB RGBA; a missing alpha becomes 255.
 * - Colour: an embedded ICC profile (Display P3, Adobe RGB, ...) is applied by toColourspace('srgb')
 *   and not kept, so the pixels are sRGB, as the app decodes them (src/features/inputs/decode-input.ts);
 *   results are written untagged (encode.ts). A profile libvips cannot use (damaged, oversized) is
 *   ignored and the stored values are taken as sRGB.
 * - Animated images: the first frame.
 * - Truncated or corrupt files throw (sharp's default `failOn: 'warning'`).
 */
import sharp from 'sharp';
import type { RgbaImage } from '../../engine/image.ts';

export interface DecodedImage extends RgbaImage {
  /** The format sharp detected, e.g. 'png', 'jpeg', 'webp'. */
  readonly format: string;
}

export async function decodeImage(input: string | Uint8Array): Promise<DecodedImage> {
  const pipeline = sharp(input, { autoOrient: true, limitInputPixels: false });
  const meta = await pipeline.metadata();
  const { data, info } = await pipeline
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels, expected 4`);
  return {
    width: info.width,
    height: info.height,
    data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength),
    format: meta.format ?? 'unknown',
  };
}
