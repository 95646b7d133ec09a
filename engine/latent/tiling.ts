/**
 * Tile grids and blending weights for the latent pipeline's three stages.
 *
 * A grid along one axis: tiles of `tile` with at least `overlap` shared, the first at 0 and the
 * last flush with the end (as OSEDiff does); one tile when the axis is not longer than `tile`.
 */

export interface TileSpec {
  tile: number;
  overlap: number;
}

/** Tile start offsets along one axis; every start is a multiple of `align`. */
export function tileStarts(size: number, tile: number, overlap: number, align = 1): number[] {
  if (size <= tile) return [0];
  if (tile % align !== 0) throw new Error(`tile ${tile} is not a multiple of ${align}`);
  if (overlap >= tile) throw new Error(`overlap ${overlap} must be smaller than tile ${tile}`);
  const stride = Math.max(align, Math.floor((tile - overlap) / align) * align);
  const last = size - tile;
  if (last % align !== 0)
    throw new Error(`size ${size} − tile ${tile} is not a multiple of ${align}`);
  const starts: number[] = [];
  for (let s = 0; s < last; s += stride) starts.push(s);
  starts.push(last);
  return starts;
}

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
  row: number;
  col: number;
}

/** Row-major grid of tiles covering width × height. */
export function tileGrid(width: number, height: number, spec: TileSpec, align = 1): TileRect[][] {
  const xs = tileStarts(width, spec.tile, spec.overlap, align);
  const ys = tileStarts(height, spec.tile, spec.overlap, align);
  const tw = Math.min(spec.tile, width);
  const th = Math.min(spec.tile, height);
  return ys.map((y, row) => xs.map((x, col) => ({ x, y, width: tw, height: th, row, col })));
}

/**
 * OSEDiff's Gaussian tile weights: exp(−(i − mid)² / (2·(σ_frac·n)²)) per axis (σ = 0.1·tile by
 * default), as a width × height plane.
 */
export function gaussianWeights(width: number, height: number, sigmaFraction = 0.1): Float32Array {
  const axis = (n: number) => {
    const mid = (n - 1) / 2;
    const s2 = 2 * (sigmaFraction * n) ** 2;
    return Float64Array.from({ length: n }, (_, i) => Math.exp(-((i - mid) ** 2) / s2));
  };
  const wx = axis(width);
  const wy = axis(height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[y * width + x] = wx[x] * wy[y];
  return out;
}

/**
 * Feathered weights: 1 inside, rising linearly across `ramp` pixels at each side that borders a
 * neighbouring tile (sides on the image edge stay at 1).
 */
export function featherWeights(
  width: number,
  height: number,
  ramps: { left: number; right: number; top: number; bottom: number },
): Float32Array {
  const axis = (n: number, a: number, b: number) =>
    Float32Array.from({ length: n }, (_, i) => {
      let w = 1;
      if (a > 0 && i < a) w = Math.min(w, (i + 0.5) / a);
      if (b > 0 && n - 1 - i < b) w = Math.min(w, (n - 1 - i + 0.5) / b);
      return w;
    });
  const wx = axis(width, ramps.left, ramps.right);
  const wy = axis(height, ramps.top, ramps.bottom);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[y * width + x] = wx[x] * wy[y];
  return out;
}

/** Feather ramps of a tile in its grid: the overlap with each neighbour. */
export function neighbourRamps(
  grid: TileRect[][],
  t: TileRect,
): { left: number; right: number; top: number; bottom: number } {
  const row = grid[t.row];
  const left = t.col > 0 ? row[t.col - 1].x + row[t.col - 1].width - t.x : 0;
  const right = t.col < row.length - 1 ? t.x + t.width - row[t.col + 1].x : 0;
  const top = t.row > 0 ? grid[t.row - 1][0].y + grid[t.row - 1][0].height - t.y : 0;
  const bottom = t.row < grid.length - 1 ? t.y + t.height - grid[t.row + 1][0].y : 0;
  return { left, right, top, bottom };
}

/** Weighted accumulation of planar tiles into a planar canvas. */
export class BlendCanvas {
  readonly sum: Float32Array;
  readonly weight: Float32Array;

  constructor(
    readonly channels: number,
    readonly width: number,
    readonly height: number,
  ) {
    this.sum = new Float32Array(channels * width * height);
    this.weight = new Float32Array(width * height);
  }

  /** Adds a tile (channels × h × w, planar) at (x, y) with per-pixel weights (h × w). */
  add(tile: Float32Array, x: number, y: number, w: number, h: number, weights: Float32Array): void {
    const { width: W, height: H } = this;
    for (let j = 0; j < h; j++) {
      const row = (y + j) * W + x;
      for (let i = 0; i < w; i++) this.weight[row + i] += weights[j * w + i];
    }
    for (let c = 0; c < this.channels; c++) {
      const dst = c * W * H;
      const src = c * w * h;
      for (let j = 0; j < h; j++) {
        const row = dst + (y + j) * W + x;
        const srow = src + j * w;
        for (let i = 0; i < w; i++) this.sum[row + i] += tile[srow + i] * weights[j * w + i];
      }
    }
  }

  /** Normalizes rows [y0, y1) in place into `out` (same layout); returns `out`. */
  resolveRows(out: Float32Array, y0 = 0, y1 = this.height): Float32Array {
    const { width: W, height: H } = this;
    for (let c = 0; c < this.channels; c++) {
      for (let p = y0 * W; p < y1 * W; p++) {
        const w = this.weight[p];
        out[c * W * H + p] = w > 0 ? this.sum[c * W * H + p] / w : 0;
      }
    }
    return out;
  }
}
