/** Small previews for the queue list (PNG, at most 96 px a side). */
import { imageSize } from 'image-size';
import { sniffKind } from '../inputs/file-kind.ts';

const SIDE = 96;
/** Sources above this declared size get no preview before they are restored (decoding costs). */
const MAX_PREVIEW_SOURCE_PIXELS = 40e6;

async function thumbnailOf(
  source: ImageBitmapSource,
  width: number,
  height: number,
): Promise<Blob> {
  const f = Math.min(1, SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * f));
  const h = Math.max(1, Math.round(height * f));
  const bitmap = await createImageBitmap(source, {
    resizeWidth: w,
    resizeHeight: h,
    resizeQuality: 'medium',
  });
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/png' });
}

export function canvasThumbnail(canvas: HTMLCanvasElement): Promise<Blob> {
  return thumbnailOf(canvas, canvas.width, canvas.height);
}

/** A preview of a source file, or null when it is not a (safely small) raster image. */
export async function fileThumbnail(file: Blob): Promise<Blob | null> {
  try {
    const head = new Uint8Array(await file.slice(0, 512 * 1024).arrayBuffer());
    const kind = sniffKind(head);
    if (!kind || kind === 'svg') return null;
    const { width, height } = imageSize(head);
    if (!(width > 0 && height > 0) || width * height > MAX_PREVIEW_SOURCE_PIXELS) return null;
    return await thumbnailOf(file, width, height);
  } catch {
    return null;
  }
}
