import { describe, expect, it } from 'vitest';
import { axisWeights, resizePlanar } from '../engine/latent/bicubic.ts';
import type { PlanarImage } from '../engine/latent/planar.ts';

const row = (values: number[]): PlanarImage => ({
  channels: 1,
  width: values.length,
  height: 1,
  data: Float32Array.from(values),
});

describe('bicubic resampling', () => {
  it("matches torch's bicubic (a = −0.75, align_corners=False) on a known case", () => {
    // interpolate(tensor([[[[0., 1.]]]]), size=(1, 4), mode='bicubic'), by hand from torch's
    // algorithm: source x = (o + 0.5)/2 − 0.5, four taps with indices clamped to the image.
    const out = resizePlanar(row([0, 1]), 4, 1, 'bicubic-torch');
    const expected = [-0.10546875, 0.2265625, 0.7734375, 1.10546875];
    out.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it("follows Pillow's BICUBIC (a = −0.5, taps clipped and renormalized at the edges)", () => {
    // Output pixel 0 of 2 → 4: centre 0.25, taps 0 and 1 with weights k(0.25) and k(1.25).
    const k0 = 1 - 2.5 * 0.25 ** 2 + 1.5 * 0.25 ** 3;
    const k1 = -0.5 * (1.25 ** 3 - 5 * 1.25 ** 2 + 8 * 1.25 - 4);
    const out = resizePlanar(row([0, 1]), 4, 1, 'bicubic-pil');
    expect(out.data[0]).toBeCloseTo(k1 / (k0 + k1), 6);
    expect(out.data[3]).toBeCloseTo(1 - k1 / (k0 + k1), 6);
    const w = axisWeights(10, 40, 'bicubic-pil');
    for (let o = 0; o < 40; o++) {
      const sum = w.weight.subarray(o * w.taps, (o + 1) * w.taps).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 6);
    }
  });

  it('keeps constants; a = −0.5 also reproduces linear ramps away from the edges', () => {
    for (const kind of ['bicubic-pil', 'bicubic-torch'] as const) {
      const flat = resizePlanar(
        { channels: 2, width: 5, height: 3, data: new Float32Array(30).fill(0.3) },
        20,
        12,
        kind,
      );
      flat.data.forEach((v) => expect(v).toBeCloseTo(0.3, 6));
    }
    const ramp = resizePlanar(row(Array.from({ length: 12 }, (_, i) => i)), 48, 1, 'bicubic-pil');
    // Output pixel o samples input position (o + 0.5)/4 − 0.5.
    for (let o = 8; o < 40; o++) expect(ramp.data[o]).toBeCloseTo((o + 0.5) / 4 - 0.5, 5);
    // Keys' kernel with a = −0.75 does not (torch's choice): it overshoots by up to 0.04 here.
    const torch = resizePlanar(
      row(Array.from({ length: 12 }, (_, i) => i)),
      48,
      1,
      'bicubic-torch',
    );
    expect(Math.abs(torch.data[9] - (9.5 / 4 - 0.5))).toBeGreaterThan(0.03);
  });

  it('resizes each channel and both axes independently', () => {
    const img: PlanarImage = {
      channels: 3,
      width: 3,
      height: 2,
      data: Float32Array.from({ length: 18 }, (_, i) => i),
    };
    const out = resizePlanar(img, 12, 8, 'bicubic-pil');
    expect([out.channels, out.width, out.height]).toEqual([3, 12, 8]);
    const plane = 12 * 8;
    for (let i = 0; i < plane; i++) {
      expect(out.data[plane + i] - out.data[i]).toBeCloseTo(6, 4);
      expect(out.data[2 * plane + i] - out.data[i]).toBeCloseTo(12, 4);
    }
  });
});
