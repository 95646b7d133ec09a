/**
 * Encodes 8-bit RGBA images to PNG, WebP or JPEG files with sharp. JPEG has no alpha: images with
 * transparency are flattened onto white.
 */
import path from 'node:path';
import sharp from 'sharp';
import { hasTransparency, type RgbaImage } from '../../engine/image.ts';

export type OutputFormat = 'png' | 'webp' | 'jpeg';

const EXTENSIONS: Record<string, OutputFormat> = {
  '.png': 'png',
  '.webp': 'webp',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
};

/** The output format for a file name, or null when its extension is not one we write. */
export function formatForPath(file: string): OutputFormat | null {
  return EXTENSIONS[path.extname(file).toLowerCase()] ?? null;
}

/** The usual extension for a format. */
export function extensionFor(format: OutputFormat): string {
  return format === 'jpeg' ? '.jpg' : `.${format}`;
}

export async function encodeImage(image: RgbaImage, format: OutputFormat): Promise<Buffer> {
  let pipeline = sharp(
    Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    {
      raw: { width: image.width, height: image.height, channels: 4 },
      limitInputPixels: false,
    },
  );
  const opaque = !hasTransparency(image);
  if (format === 'png') {
    // Drop an all-255 alpha channel and write gray images as gray: smaller files, same pixels.
    if (opaque) pipeline = pipeline.removeAlpha();
    if (isGray(image)) pipeline = pipeline.toColourspace('b-w');
    return pipeline.png({ compressionLevel: 6 }).toBuffer();
  }
  if (format === 'webp') {
    if (opaque) pipeline = pipeline.removeAlpha();
    return pipeline.webp({ quality: 92, alphaQuality: 100 }).toBuffer();
  }
  return pipeline
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 92, mozjpeg: true })
    .toBuffer();
}

/** True when every pixel has R = G = B. */
function isGray(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/** Encodes to the format the file name's extension asks for and writes the file. */
export async function writeImage(image: RgbaImage, file: string): Promise<void> {
  const format = formatForPath(file);
  if (!format) {
    throw new Error(`${file}: unsupported output extension (use .png, .webp, .jpg or .jpeg)`);
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, await encodeImage(image, format));
}
