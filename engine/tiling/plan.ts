/**
 * Tile planner: splits an image into model-input windows ("tiles") of a fixed size.
 *
 * Pure functions, no runtime. Sizes are in input pixels.
 *
 * - `tileSize` is the size of the window fed to the model, context included. Tiles are square
 *   unless the image is smaller than a tile along an axis, in which case that axis gets one tile of
 *   the image's size.
 * - `overlap` is the context each tile sees beyond the part of the image it is responsible for, on
 *   every side that borders another tile: neighbouring windows share at least `2 * overlap` pixels.
 *   With `overlap >= tileMargin` (the model's receptive-field radius) every output pixel the engine
 *   keeps from a tile was computed from the same input pixels as an untiled run, so tiling is exact.
 * - The last row and column are snapped to the image's right/bottom edge, so every tile is full-size;
 *   they then share more than `2 * overlap` pixels with their neighbour.
 */
import type { Rect } from '../image.ts';

/** Smallest stride (the part of a tile not spent on context) the planner accepts. */
export const MIN_TILE_CORE = 16;

export interface TilePlanOptions {
  /** Window size in input pixels (context included). Raised to `2 * overlap + MIN_TILE_CORE` if smaller. */
  tileSize: number;
  /** Context in input pixels on each side that borders another tile. */
  overlap: number;
}

export interface TileSpec {
  /** Position in processing order (row-major). */
  readonly index: number;
  readonly row: number;
  readonly col: number;
  /** The window fed to the model, in input pixels. */
  readonly input: Rect;
}

export interface TilePlan {
  readonly width: number;
  readonly height: number;
  /** The tile size actually used (after raising it to the minimum). */
  readonly tileSize: number;
  readonly overlap: number;
  /** Left edges of the tile columns, ascending. */
  readonly xStarts: readonly number[];
  /** Top edges of the tile rows, ascending. */
  readonly yStarts: readonly number[];
  /** Window width/height: min(tileSize, image width/height). */
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly rows: number;
  readonly cols: number;
  /** All tiles in row-major order. */
  readonly tiles: readonly TileSpec[];
}

/** The smallest tile size the planner uses for a given overlap. */
export function minTileSize(overlap: number): number {
  return 2 * overlap + MIN_TILE_CORE;
}

/**
 * Start positions of windows of size `min(tile, length)` along one axis: stride `tile - 2 * overlap`,
 * the last one snapped so that it ends exactly at `length`.
 */
export function planAxis(length: number, tile: number, overlap: number): number[] {
  assertInt('length', length, 1);
  assertInt('tile', tile, 1);
  assertInt('overlap', overlap, 0);
  if (tile >= length) return [0];
  const stride = tile - 2 * overlap;
  if (stride < 1) throw new RangeError(`tile ${tile} leaves no core with overlap ${overlap}`);
  const starts = [0];
  let last = 0;
  while (last + tile < length) {
    last = Math.min(last + stride, length - tile);
    starts.push(last);
  }
  return starts;
}

export function planTiles(width: number, height: number, opts: TilePlanOptions): TilePlan {
  assertInt('width', width, 1);
  assertInt('height', height, 1);
  assertInt('tileSize', opts.tileSize, 1);
  assertInt('overlap', opts.overlap, 0);
  const tileSize = Math.max(opts.tileSize, minTileSize(opts.overlap));
  const xStarts = planAxis(width, tileSize, opts.overlap);
  const yStarts = planAxis(height, tileSize, opts.overlap);
  const tileWidth = Math.min(tileSize, width);
  const tileHeight = Math.min(tileSize, height);
  const tiles: TileSpec[] = [];
  yStarts.forEach((y, row) =>
    xStarts.forEach((x, col) =>
      tiles.push({
        index: tiles.length,
        row,
        col,
        input: { x, y, width: tileWidth, height: tileHeight },
      }),
    ),
  );
  return {
    width,
    height,
    tileSize,
    overlap: opts.overlap,
    xStarts,
    yStarts,
    tileWidth,
    tileHeight,
    rows: yStarts.length,
    cols: xStarts.length,
    tiles,
  };
}

export interface ChooseTileOptions {
  /** Largest window to use (e.g. what memory or the backend allows). */
  maxTileSize: number;
  overlap: number;
  /** Fixed cost of one tile, in pixels of work (default 64 * 64). */
  tileCost?: number;
}

/**
 * The tile size up to `maxTileSize` that minimises the pixels the model has to process (tile area
 * summed over all tiles, plus `tileCost` per tile). Snapping the last row/column to the edge makes a
 * large tile wasteful on an image a little larger than it (600 px wide with 548 px tiles: 1.8x the
 * work); a somewhat smaller tile often needs no more tiles and much less overlap.
 */
export function chooseTileSize(width: number, height: number, opts: ChooseTileOptions): number {
  const { overlap } = opts;
  const tileCost = opts.tileCost ?? 64 * 64;
  const min = minTileSize(overlap);
  const max = Math.max(opts.maxTileSize, min);
  if (width <= max && height <= max) return max;
  let best = max;
  let bestCost = Infinity;
  for (let t = max; t >= min; t--) {
    const tiles = planAxis(width, t, overlap).length * planAxis(height, t, overlap).length;
    const cost = tiles * (Math.min(t, width) * Math.min(t, height) + tileCost);
    if (cost < bestCost) {
      best = t;
      bestCost = cost;
    }
  }
  return best;
}

function assertInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  }
}
