/**
 * Images smaller than a model can see sensibly: a 1 x 1 or 2 x 2 image is almost all border, and
 * the models' zero padding swamps it (a flat 1 x 1 (200, 40, 90) came out near black). The engine
 * pads an image with a side under MIN_MODEL_INPUT by edge replication to PADDED_INPUT on each short
 * side, runs the model on that, and crops the result back (docs/real-esrgan.md).
 */
import type { RgbaImage } from './image.ts';

/** Smallest side the engine hands a model as it is. */
export const MIN_MODEL_INPUT = 16;
/**
 * What shorter sides are edge-padded to: far enough from the zero-padded border that a flat tiny
 * image comes out as the model's response to a large flat area (measured in
 * test/engine-tiny-images.test.ts; 16 left errors of 3 to 4 levels).
 */
export const PADDED_INPUT = 48;

export interface EdgePadded {
  image: RgbaImage;
  /** Where the original image lies inside the padded one. */
  left: number;
  top: number;
}

/** The image centred in a min x min (or larger) canvas, its edge pixels replicated outwards. */
export function padEdges(image: RgbaImage, min = PADDED_INPUT): EdgePadded {
  const width = Math.max(min, image.width);
  const height = Math.max(min, image.height);
  const left = Math.floor((width - image.width) / 2);
  const top = Math.floor((height - image.height) / 2);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y - top));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x - left));
      const s = (sy * image.width + sx) * 4;
      const d = (y * width + x) * 4;
      data[d] = image.data[s];
      data[d + 1] = image.data[s + 1];
      data[d + 2] = image.data[s + 2];
      data[d + 3] = image.data[s + 3];
    }
  }
  return { image: { width, height, data }, left, top };
}

/** The `width` x `height` block of `image` at (left, top). */
export function cropImage(
  image: RgbaImage,
  left: number,
  top: number,
  width: number,
  height: number,
): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const s = ((top + y) * image.width + left) * 4;
    data.set(image.data.subarray(s, s + width * 4), y * width * 4);
  }
  return { width, height, data };
}
