import { describe, expect, it } from 'vitest';
import { axisSpans, spanWeight } from '../engine/tiling/blend.ts';
import { chooseTileSize, minTileSize, planAxis, planTiles } from '../engine/tiling/plan.ts';

describe('planAxis', () => {
  it('strides by tile - 2*overlap and snaps the last window to the edge', () => {
    expect(planAxis(100, 40, 5)).toEqual([0, 30, 60]);
    expect(planAxis(101, 40, 5)).toEqual([0, 30, 60, 61]);
    expect(planAxis(75, 40, 5)).toEqual([0, 30, 35]);
    expect(planAxis(5, 2, 0)).toEqual([0, 2, 3]);
  });

  it('gives one window when the tile is at least the length', () => {
    expect(planAxis(3, 3, 0)).toEqual([0]);
    expect(planAxis(3, 1000, 50)).toEqual([0]);
  });

  it('rejects windows with no core and bad sizes', () => {
    expect(() => planAxis(100, 10, 5)).toThrow(RangeError);
    expect(() => planAxis(0, 10, 0)).toThrow(RangeError);
    expect(() => planAxis(10, 2.5, 0)).toThrow(RangeError);
    expect(() => planAxis(10, 4, -1)).toThrow(RangeError);
  });

  it('covers every length with full-size windows and enough shared context', () => {
    for (let length = 1; length <= 120; length++) {
      for (const [tile, overlap] of [
        [7, 0],
        [9, 2],
        [16, 3],
        [33, 8],
        [64, 31],
      ]) {
        const starts = planAxis(length, tile, overlap);
        const t = Math.min(tile, length);
        expect(starts[0]).toBe(0);
        expect(starts[starts.length - 1] + t).toBe(length);
        for (let i = 1; i < starts.length; i++) {
          const step = starts[i] - starts[i - 1];
          expect(step).toBeGreaterThan(0);
          // Neighbours share at least 2*overlap pixels, so each has `overlap` of context at the seam.
          expect(step).toBeLessThanOrEqual(t - 2 * overlap);
        }
      }
    }
  });
});

describe('planTiles', () => {
  it('makes one tile of the image size when the tile is larger than the image', () => {
    const plan = planTiles(451, 300, { tileSize: 512, overlap: 10 });
    expect(plan.tiles).toEqual([
      { index: 0, row: 0, col: 0, input: { x: 0, y: 0, width: 451, height: 300 } },
    ]);
  });

  it('handles a tiny 5x3 image', () => {
    const plan = planTiles(5, 3, { tileSize: 64, overlap: 4 });
    expect(plan.tiles.map((t) => t.input)).toEqual([{ x: 0, y: 0, width: 5, height: 3 }]);
  });

  it('lays tiles out row-major, all full-size, the last row and column on the edges', () => {
    const plan = planTiles(101, 67, { tileSize: 37, overlap: 5 });
    expect(plan.xStarts).toEqual([0, 27, 54, 64]);
    expect(plan.yStarts).toEqual([0, 27, 30]);
    expect(plan.tiles).toHaveLength(12);
    plan.tiles.forEach((t, i) => {
      expect(t.index).toBe(i);
      expect(t.row).toBe(Math.floor(i / 4));
      expect(t.col).toBe(i % 4);
      expect(t.input.width).toBe(37);
      expect(t.input.height).toBe(37);
      expect(t.input.x + t.input.width).toBeLessThanOrEqual(101);
      expect(t.input.y + t.input.height).toBeLessThanOrEqual(67);
    });
    const last = plan.tiles[plan.tiles.length - 1].input;
    expect([last.x + last.width, last.y + last.height]).toEqual([101, 67]);
  });

  it('uses one axis of image size when only that axis is smaller than the tile', () => {
    const plan = planTiles(300, 20, { tileSize: 128, overlap: 8 });
    expect(plan.tileWidth).toBe(128);
    expect(plan.tileHeight).toBe(20);
    expect(plan.rows).toBe(1);
    expect(plan.xStarts).toEqual([0, 112, 172]);
  });

  it('raises a tile too small for its overlap to the minimum', () => {
    const plan = planTiles(500, 500, { tileSize: 20, overlap: 12 });
    expect(plan.tileSize).toBe(minTileSize(12));
    expect(plan.tileSize).toBe(40);
    expect(plan.xStarts.slice(0, 3)).toEqual([0, 16, 32]);
  });
});

describe('axisSpans', () => {
  const cases: [number, number, number, number, number][] = [
    // length, tile, overlap, scale, feather
    [101, 37, 5, 2, 16],
    [100, 40, 5, 4, 16],
    [75, 40, 5, 3, 16],
    [120, 33, 8, 2, 0],
    [5, 64, 4, 4, 16],
  ];
  it.each(cases)(
    'partitions the output (L=%i tile=%i overlap=%i x%i feather=%i)',
    (L, T, o, s, f) => {
      const starts = planAxis(L, T, o);
      const t = Math.min(T, L);
      const spans = axisSpans(starts, t, L, o, s, f);
      expect(spans[0].lo).toBe(0);
      expect(spans[spans.length - 1].outStart).toBe(L * s);
      spans.forEach((sp, i) => {
        expect(sp.lo).toBeLessThanOrEqual(sp.inEnd);
        expect(sp.inEnd).toBeLessThanOrEqual(sp.outStart);
        expect(sp.outStart).toBeLessThanOrEqual(sp.hi);
        // A tile only contributes where it has `overlap` pixels of context (or the image edge).
        if (i > 0) expect(sp.lo).toBeGreaterThanOrEqual((starts[i] + o) * s);
        if (i < spans.length - 1) expect(sp.hi).toBeLessThanOrEqual((starts[i] + t - o) * s);
        if (i > 0) {
          // Blocks are contiguous, ramps shared, weights complementary.
          const prev = spans[i - 1];
          expect(sp.lo).toBe(prev.outStart);
          expect(sp.inEnd).toBe(prev.hi);
          expect(sp.inEnd - sp.lo).toBeLessThanOrEqual(f * s);
          for (let p = sp.lo; p < sp.inEnd; p++) {
            const a = spanWeight(prev, p);
            const b = spanWeight(sp, p);
            expect(a).toBeGreaterThan(0);
            expect(b).toBeGreaterThan(0);
            expect(a + b).toBeCloseTo(1, 12);
          }
        }
      });
    },
  );

  it('feathers where the snapped last tile leaves room', () => {
    const spans = axisSpans(planAxis(101, 37, 5), 37, 101, 5, 2, 16);
    const last = spans[spans.length - 1];
    // Shared [64, 91), trusted [69, 86) = 17 input px = 34 output px, capped to 16 * 2 = 32 and
    // centred in the trusted zone.
    expect(last.inEnd - last.lo).toBe(32);
    expect(last.lo).toBe(139);
  });
});

describe('chooseTileSize', () => {
  const work = (w: number, h: number, tileSize: number, overlap: number) =>
    planTiles(w, h, { tileSize, overlap }).tiles.reduce(
      (sum, t) => sum + t.input.width * t.input.height,
      0,
    );

  it('keeps the largest tile when the image fits in one', () => {
    expect(chooseTileSize(451, 300, { maxTileSize: 548, overlap: 18 })).toBe(548);
  });

  it('shrinks the tile where snapping would waste work', () => {
    // 600x400 with 548 px tiles: two 548x400 tiles (1.83x the pixels); 224 px: six (1.25x).
    const t = chooseTileSize(600, 400, { maxTileSize: 548, overlap: 18 });
    expect(t).toBe(224);
    expect(work(600, 400, 548, 18) / (600 * 400)).toBeGreaterThan(1.8);
    expect(work(600, 400, t, 18) / (600 * 400)).toBeLessThan(1.3);
  });

  it('never does more work than the largest tile and respects the minimum', () => {
    for (const [w, h, max, o] of [
      [2000, 1500, 548, 18],
      [1000, 90, 256, 10],
      [333, 777, 120, 30],
    ]) {
      const t = chooseTileSize(w, h, { maxTileSize: max, overlap: o });
      expect(t).toBeLessThanOrEqual(Math.max(max, minTileSize(o)));
      expect(t).toBeGreaterThanOrEqual(minTileSize(o));
      expect(work(w, h, t, o)).toBeLessThanOrEqual(work(w, h, max, o));
    }
  });
});
