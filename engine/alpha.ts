/**
 * Preparing images with transparency for an RGB model.
 *
 * The colour under fully transparent pixels is arbitrary (often black). An RGB model smears it into
 * the visible pixels next to it, which shows as a dark fringe once the upscaled alpha is applied.
 * Like waifu2x, we first bleed the colours of visible pixels outwards into transparent ones.
 */
import type { RgbaImage } from './image.ts';

/**
 * A copy of `image` where fully transparent pixels take colours grown outwards from the visible
 * ones, ring by ring (8-neighbourhood): each pixel of a ring gets the mean colour of its neighbours
 * in earlier rings. Stops after `rings` rings (default: until every pixel has a colour). Alpha is
 * unchanged; an image with no visible pixel is returned as a plain copy. Linear in the pixel count.
 */
export function bleedTransparentColors(image: RgbaImage, rings = Infinity): RgbaImage {
  const { width: w, height: h } = image;
  const data = new Uint8ClampedArray(image.data);
  const n = w * h;
  // 0 = no colour yet, 1 = has a colour, 2 = queued in the next ring.
  const state = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (data[i * 4 + 3] !== 0) state[i] = 1;

  const neighbours = (i: number, visit: (j: number) => void) => {
    const x = i % w;
    const y = (i - x) / w;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= h) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if ((dx || dy) && xx >= 0 && xx < w) visit(yy * w + xx);
      }
    }
  };

  let ring: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] !== 0) continue;
    let touches = false;
    neighbours(i, (j) => {
      if (state[j] === 1) touches = true;
    });
    if (touches) {
      state[i] = 2;
      ring.push(i);
    }
  }
  for (let r = 0; r < rings && ring.length; r++) {
    const rgb = new Float32Array(ring.length * 3);
    ring.forEach((i, k) => {
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let count = 0;
      neighbours(i, (j) => {
        if (state[j] !== 1) return;
        sr += data[j * 4];
        sg += data[j * 4 + 1];
        sb += data[j * 4 + 2];
        count++;
      });
      rgb[k * 3] = sr / count;
      rgb[k * 3 + 1] = sg / count;
      rgb[k * 3 + 2] = sb / count;
    });
    const next: number[] = [];
    ring.forEach((i, k) => {
      data[i * 4] = rgb[k * 3];
      data[i * 4 + 1] = rgb[k * 3 + 1];
      data[i * 4 + 2] = rgb[k * 3 + 2];
      state[i] = 1;
    });
    for (const i of ring) {
      neighbours(i, (j) => {
        if (state[j] === 0) {
          state[j] = 2;
          next.push(j);
        }
      });
    }
    ring = next;
  }
  return { width: w, height: h, data };
}
