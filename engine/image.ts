/**
 * Plain RGBA images: the engine's input and output, shaped like ImageData but with no DOM.
 * Grayscale, palette and 16-bit sources are expanded to 8-bit RGBA by whoever decodes them.
 */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row-major, non-premultiplied RGBA. */
  readonly data: Uint8ClampedArray;
}

/** A rectangle in pixel coordinates. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function createImage(width: number, height: number): RgbaImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`invalid image size ${width}x${height}`);
  }
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

/** An image's size without its pixels (what a streamed result reports). */
export type ImageSize = Pick<RgbaImage, 'width' | 'height'>;

/** Copies tightly packed RGBA covering `rect` into `image` at that place. */
export function pasteRect(image: RgbaImage, rect: Rect, data: Uint8ClampedArray): void {
  const rowBytes = rect.width * 4;
  if (data.length !== rowBytes * rect.height)
    throw new Error(`block data has ${data.length} bytes, expected ${rowBytes * rect.height}`);
  for (let y = 0; y < rect.height; y++) {
    image.data.set(
      data.subarray(y * rowBytes, (y + 1) * rowBytes),
      ((rect.y + y) * image.width + rect.x) * 4,
    );
  }
}

/** True when any pixel is not fully opaque. */
export function hasTransparency(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return true;
  return false;
}
