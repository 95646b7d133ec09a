/**
 * Encodes a result canvas for saving, with the source's EXIF unless the user strips it. The
 * source's ICC profile is never written: the pixels were converted to sRGB on decoding
 * (decode-input.ts), so the result is an untagged sRGB image, as the command line writes it.
 */
import { encodeCanvas, type OutputFormat } from '../../lib/encode-image.ts';
import { useInputsStore } from './inputs-store.ts';
import type { ImageMetadata } from './metadata/image-metadata.ts';

export async function encodeResult(
  canvas: HTMLCanvasElement,
  format: OutputFormat,
  quality: number,
  metadata: ImageMetadata | null | undefined,
): Promise<Blob> {
  const blob = await encodeCanvas(canvas, format, quality);
  if (!metadata || !useInputsStore.getState().keepMetadata) return blob;
  if (!metadata.exif) return blob;
  // The writers (piexifjs, png-chunks-encode) are loaded only when there is something to write.
  const { blobWithMetadata } = await import('./metadata/write-metadata.ts');
  return blobWithMetadata(
    blob,
    format,
    { width: canvas.width, height: canvas.height },
    { exif: metadata.exif, icc: null },
  );
}
