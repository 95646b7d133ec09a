import { describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import {
  BlendCanvas,
  featherWeights,
  gaussianWeights,
  neighbourRamps,
  tileGrid,
  tileStarts,
} from '../engine/latent/tiling.ts';
import { autoTiling, resolveTiling } from '../engine/latent/tiling-plan.ts';

const manifest = manifestFor(tinyGendrPack());

describe('latent tiling', () => {
  it('tiles an axis like OSEDiff: stride tile − overlap, the last tile flush with the end', () => {
    expect(tileStarts(232, 96, 32)).toEqual([0, 64, 128, 136]);
    expect(tileStarts(96, 96, 32)).toEqual([0]);
    expect(tileStarts(50, 96, 32)).toEqual([0]);
    expect(tileStarts(1856, 512, 64, 8)).toEqual([0, 448, 896, 1344]);
    for (const s of tileStarts(1216, 512, 60, 8)) expect(s % 8).toBe(0);
    expect(() => tileStarts(100, 96, 96)).toThrow(/overlap/);
  });

  it('uses Gaussian weights with σ = 0.1·tile', () => {
    const w = gaussianWeights(96, 1);
    const mid = (96 - 1) / 2;
    const sigma = 9.6;
    expect(w[10] / w[48]).toBeCloseTo(
      Math.exp(-((10 - mid) ** 2 - (48 - mid) ** 2) / (2 * sigma ** 2)),
      5,
    );
    expect(w[0]).toBeGreaterThan(0);
  });

  it('feathers overlapping tiles into a partition of unity', () => {
    const grid = tileGrid(40, 30, { tile: 16, overlap: 6 });
    const canvas = new BlendCanvas(1, 40, 30);
    for (const row of grid) {
      for (const t of row) {
        const ones = new Float32Array(t.width * t.height).fill(1);
        canvas.add(
          ones,
          t.x,
          t.y,
          t.width,
          t.height,
          featherWeights(t.width, t.height, neighbourRamps(grid, t)),
        );
      }
    }
    const out = canvas.resolveRows(new Float32Array(40 * 30));
    out.forEach((v) => expect(v).toBeCloseTo(1, 6));
    // Tiles on the border keep full weight up to the image edge.
    const corner = featherWeights(16, 16, neighbourRamps(grid, grid[0][0]));
    expect(corner[0]).toBe(1);
    expect(corner[15]).toBeLessThan(1);
  });

  it('rounds tiles to what the graphs accept', () => {
    const t = resolveTiling(manifest, {
      encoder: { tile: 100, overlap: 10 },
      unet: { tile: 30, overlap: 9 },
    });
    expect(t.encoder).toEqual({ tile: 96, overlap: 16 });
    expect(t.unet).toEqual({ tile: 24, overlap: 16, sigma: 0.1 });
    expect(resolveTiling(manifest, undefined).unet).toEqual({ tile: 96, overlap: 32, sigma: 0.1 });
    expect(resolveTiling(manifest, 'none').encoder.tile).toBeGreaterThan(100_000);
  });

  it('picks tiles whose largest activation fits the device limit', () => {
    const big = autoTiling(manifest, { maxBufferBytes: 2 ** 31 });
    const small = autoTiling(manifest, { maxBufferBytes: 128 * 2 ** 20 });
    // Self-attention over t² latent tokens: 20 bytes per token pair by default.
    expect(small.unet.tile ** 4 * 20).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(small.unet.tile % 8).toBe(0);
    expect(small.unet.tile).toBeLessThan(big.unet.tile);
    expect(small.encoder.tile ** 2 * 1024).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(small.decoder.tile ** 2 * 64 * 1024).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(small.unet.overlap).toBeLessThan(small.unet.tile);
  });
});
