/**
 * The degradation and the plain-bicubic baseline of `npm run eval`, with Pillow's bicubic
 * (engine/latent/bicubic.ts 'bicubic-pil' on values in [0, 1]: a = -0.5, edge taps
 * renormalised), which is ANTIALIASED when downscaling (the kernel is widened by the factor), as Pillow's Image.resize and
 * MATLAB's imresize are. The low-resolution image is rounded to 8 bits, as a saved file would be.
 */
import { createImage, type RgbaImage } from '../../engine/image.ts';
import { resizePlanar } from '../../engine/latent/bicubic.ts';
import { rgbaToPlanar } from '../../engine/latent/planar.ts';

export const DEGRADATION =
  "bicubic downscale, Pillow's BICUBIC (a = -0.5) with antialiasing (kernel widened by the scale), rounded to 8 bits";

function resizeRgb(image: RgbaImage, width: number, height: number): RgbaImage {
  const planar = resizePlanar(rgbaToPlanar(image, 3), width, height, 'bicubic-pil');
  const out = createImage(width, height);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out.data[i * 4 + c] = Math.round(planar.data[c * plane + i] * 255);
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** Crops the image to a multiple of `scale` (top-left anchored) and makes it opaque. */
export function cropToMultiple(image: RgbaImage, scale: number): RgbaImage {
  const width = Math.floor(image.width / scale) * scale;
  const height = Math.floor(image.height / scale) * scale;
  if (width === 0 || height === 0)
    throw new Error(`image ${image.width}x${image.height} is smaller than the scale ${scale}`);
  const out = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * image.width + x) * 4;
      const d = (y * width + x) * 4;
      out.data[d] = image.data[s];
      out.data[d + 1] = image.data[s + 1];
      out.data[d + 2] = image.data[s + 2];
      out.data[d + 3] = 255;
    }
  }
  return out;
}

export function downscale(hr: RgbaImage, scale: number): RgbaImage {
  return resizeRgb(hr, hr.width / scale, hr.height / scale);
}

export function bicubicUpscale(lr: RgbaImage, scale: number): RgbaImage {
  return resizeRgb(lr, lr.width * scale, lr.height * scale);
}
