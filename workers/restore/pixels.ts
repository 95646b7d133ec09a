/** ImageBitmap to plain RGBA pixels, inside the worker (OffscreenCanvas). */
import type { RgbaImage } from '../../engine/image.ts';

export function bitmapToRgba(bitmap: ImageBitmap): RgbaImage {
  const { width, height } = bitmap;
  try {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('this browser cannot read image pixels in a worker');
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height);
    return { width, height, data: pixels.data };
  } finally {
    bitmap.close();
  }
}
