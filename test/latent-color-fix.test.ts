import { describe, expect, it } from 'vitest';
import {
  adainColorFix,
  channelStats,
  waveletColorFix,
  waveletLowPass,
  waveletRows,
  WAVELET_REACH,
} from '../engine/latent/color-fix.ts';
import { createPlanar, type PlanarImage } from '../engine/latent/planar.ts';
import { SeededRandom } from '../tools/builder/generated/random.ts';

/** Smooth colour gradients plus fine seeded texture, values inside [0.1, 0.9]. */
function photoLike(width: number, height: number, seed: number): PlanarImage {
  const rng = new SeededRandom(seed);
  const img = createPlanar(3, width, height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const smooth = 0.5 + 0.25 * Math.sin((x / width) * 3 + c) * Math.cos((y / height) * 2 - c);
        img.data[(c * height + y) * width + x] = smooth + 0.1 * (rng.next() - 0.5);
      }
    }
  }
  return img;
}

function map(img: PlanarImage, f: (v: number, c: number) => number): PlanarImage {
  const n = img.width * img.height;
  return { ...img, data: img.data.map((v, i) => f(v, Math.floor(i / n))) };
}

describe('colour fix', () => {
  it('AdaIN moves each channel’s mean and std to the reference’s', () => {
    const style = photoLike(64, 48, 1);
    const content = map(photoLike(64, 48, 2), (v, c) => 0.6 * v + 0.1 * c);
    adainColorFix(content, style);
    const a = channelStats(content);
    const b = channelStats(style);
    for (let c = 0; c < 3; c++) {
      // Within the 1e-5 added to each variance (StableSR's calc_mean_std).
      expect(a.mean[c]).toBeCloseTo(b.mean[c], 3);
      expect(a.std[c]).toBeCloseTo(b.std[c], 3);
    }
  });

  it('AdaIN undoes a per-channel affine colour cast exactly', () => {
    const style = photoLike(40, 30, 3);
    const cast = map(style, (v, c) => [0.7, 1.1, 0.9][c] * v + [0.05, -0.02, 0.1][c]);
    adainColorFix(cast, style);
    cast.data.forEach((v, i) => expect(v).toBeCloseTo(style.data[i], 3));
  });

  it('wavelet keeps the output’s detail and takes the reference’s low frequencies', () => {
    const style = photoLike(96, 80, 4);
    const content = map(photoLike(96, 80, 4), (v, c) => v + [0.1, -0.08, 0.05][c]);
    waveletColorFix(content, style);
    // A constant shift is pure low frequency: the fix removes it.
    content.data.forEach((v, i) => expect(v).toBeCloseTo(style.data[i], 4));
    // Against a flat reference the result is the output's high-pass (all 5 levels) plus the flat level.
    const flat = map(style, () => 0.5);
    const detailed = photoLike(96, 80, 5);
    const fixed = { ...detailed, data: detailed.data.slice() };
    waveletColorFix(fixed, flat);
    const n = 96 * 80;
    const low = waveletLowPass(detailed.data.subarray(0, n), 96, 80);
    for (let i = 0; i < n; i++)
      expect(fixed.data[i]).toBeCloseTo(detailed.data[i] - low[i] + 0.5, 5);
    // And that high-pass is real detail: the texture's spread survives.
    const spread = (a: Float32Array) => Math.max(...a) - Math.min(...a);
    expect(spread(fixed.data.subarray(0, n))).toBeGreaterThan(0.08);
  });

  it('wavelet band by band equals the whole-image fix (so it can stream)', () => {
    const style = photoLike(50, 120, 6);
    const content = map(photoLike(50, 120, 7), (v) => 0.8 * v + 0.15);
    const whole = { ...content, data: content.data.slice() };
    waveletColorFix(whole, style);
    const out = createPlanar(3, 50, 120);
    for (const [y0, y1] of [
      [0, 17],
      [17, 60],
      [60, 61],
      [61, 120],
    ])
      waveletRows(content, style, out, y0, y1);
    expect(Array.from(out.data)).toEqual(Array.from(whole.data));
    expect(WAVELET_REACH).toBe(31);
  });
});
