/**
 * Blends tile outputs into the output image, streaming each part of the output as soon as it is final.
 *
 * Along each axis, the seam between two neighbouring tiles lies in the middle of the zone where both
 * tiles have at least `overlap` pixels of context (the "trusted" zone). If that zone is wider than
 * zero (which happens where the last row/column was snapped to the image edge), the tiles are
 * feathered over up to `feather` input pixels of it with complementary linear-ramp weights; weights
 * are separable (x ramp times y ramp), so they sum to 1 everywhere, corners included. With
 * `overlap >= tileMargin` both tiles agree in the trusted zone anyway; with less overlap the ramp
 * hides seams where it has room to.
 *
 * Streaming: the axis is cut into segments [u(i-1), u(i)) (u = start of a seam's ramp). The block
 * (row segment r) x (column segment c) depends only on tiles (r-1..r, c-1..c), so in row-major
 * order it is final right after tile (r, c): every tile finalises exactly its block, the blocks
 * partition the output, and the blender only keeps float sums for pixels inside ramps. It never
 * holds the whole output: each block is written into a buffer of its own and handed over.
 */
import type { Rect } from '../image.ts';
import type { TilePlan, TileSpec } from './plan.ts';

export interface BlendOptions {
  /** Integer upscaling factor of the model. */
  scale: number;
  /** 3 (RGB; output alpha is 255) or 4 (RGBA). */
  channels: 3 | 4;
  /** Write the mean of R, G and B to all three (for grayscale sources). */
  gray?: boolean;
  /** Longest ramp in input pixels (default 16); 0 means hard seams. */
  feather?: number;
}

/** One tile's range along one axis, in output pixels. */
export interface AxisSpan {
  /** First pixel this tile contributes to (start of its incoming ramp). */
  readonly lo: number;
  /** End of its incoming ramp (= lo when there is none). */
  readonly inEnd: number;
  /** Start of its outgoing ramp (= end of its block). */
  readonly outStart: number;
  /** End of the pixels it contributes to. */
  readonly hi: number;
}

/**
 * Per-tile spans along one axis. `starts`/`tile` are in input pixels, the result in output pixels.
 */
export function axisSpans(
  starts: readonly number[],
  tile: number,
  length: number,
  overlap: number,
  scale: number,
  feather: number,
): AxisSpan[] {
  const n = starts.length;
  const u: number[] = [];
  const v: number[] = [];
  for (let i = 0; i + 1 < n; i++) {
    // Zone where both tile i and tile i+1 have `overlap` pixels of context.
    let a = (starts[i + 1] + overlap) * scale;
    let b = (starts[i] + tile - overlap) * scale;
    if (b < a) {
      // Less shared context than 2*overlap (cannot happen with planTiles): cut in the middle.
      const mid = Math.floor((starts[i + 1] + starts[i] + tile) / 2) * scale;
      a = mid;
      b = mid;
    }
    const width = Math.min(feather * scale, b - a);
    const start = a + Math.floor((b - a - width) / 2);
    u.push(start);
    v.push(start + width);
  }
  const end = length * scale;
  return starts.map((_, i) => ({
    lo: i > 0 ? u[i - 1] : 0,
    inEnd: i > 0 ? v[i - 1] : 0,
    outStart: i < n - 1 ? u[i] : end,
    hi: i < n - 1 ? v[i] : end,
  }));
}

/** The weight of a tile at output coordinate `p` along one axis. */
export function spanWeight(span: AxisSpan, p: number): number {
  if (p < span.inEnd) return (p - span.lo + 0.5) / (span.inEnd - span.lo);
  if (p >= span.outStart) return 1 - (p - span.outStart + 0.5) / (span.hi - span.outStart);
  return 1;
}

/** A block of the output that is final, with its pixels (tightly packed RGBA). */
export interface FinalBlock {
  rect: Rect;
  data: Uint8ClampedArray;
}

export class TileBlender {
  /** Output size in pixels. */
  readonly width: number;
  readonly height: number;
  private readonly xSpans: AxisSpan[];
  private readonly ySpans: AxisSpan[];
  private readonly channels: 3 | 4;
  private readonly gray: boolean;
  private readonly scale: number;
  private next = 0;
  /** Float sums for the bottom ramp of the current tile row (full width). */
  private band = new Float32Array(0);
  /** Float sums for the bottom ramp of the previous tile row (full width). */
  private prevBand = new Float32Array(0);
  /** Float sums for the right ramp of the previous tile, over the middle rows of this tile row. */
  private strip = new Float32Array(0);
  private readonly px = new Float32Array(4);
  /** The block being finalised: its pixels and where it lies. */
  private block: FinalBlock = {
    rect: { x: 0, y: 0, width: 0, height: 0 },
    data: new Uint8ClampedArray(0),
  };

  constructor(
    readonly plan: TilePlan,
    opts: BlendOptions,
  ) {
    const { scale, channels } = opts;
    if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`invalid scale ${scale}`);
    const feather = opts.feather ?? 16;
    this.scale = scale;
    this.channels = channels;
    this.gray = opts.gray ?? false;
    this.width = plan.width * scale;
    this.height = plan.height * scale;
    this.xSpans = axisSpans(plan.xStarts, plan.tileWidth, plan.width, plan.overlap, scale, feather);
    this.ySpans = axisSpans(
      plan.yStarts,
      plan.tileHeight,
      plan.height,
      plan.overlap,
      scale,
      feather,
    );
  }

  /** The output block tile `index` finalises. */
  blockOf(tile: TileSpec): Rect {
    const ax = this.xSpans[tile.col];
    const ay = this.ySpans[tile.row];
    return { x: ax.lo, y: ay.lo, width: ax.outStart - ax.lo, height: ay.outStart - ay.lo };
  }

  /**
   * Adds the next tile's output, given as `channels` planes of (width*scale) x (height*scale) floats
   * in 0..255 (unclamped is fine), and returns the output block that is now final.
   */
  add(tile: TileSpec, planes: readonly Float32Array[]): FinalBlock {
    if (tile.index !== this.next) throw new Error(`tile ${tile.index} added out of order`);
    const C = this.channels;
    if (planes.length !== C) throw new Error(`expected ${C} planes, got ${planes.length}`);
    const s = this.scale;
    const TW = tile.input.width * s;
    const TH = tile.input.height * s;
    for (const p of planes) {
      if (p.length !== TW * TH)
        throw new Error(`tile plane has ${p.length} values, expected ${TW * TH}`);
    }
    const X0 = tile.input.x * s;
    const Y0 = tile.input.y * s;
    const W = this.width;
    const ax = this.xSpans[tile.col];
    const ay = this.ySpans[tile.row];
    const rect = this.blockOf(tile);
    const block = { rect, data: new Uint8ClampedArray(rect.width * rect.height * 4) };
    this.block = block;
    if (tile.col === 0) {
      this.prevBand = this.band;
      this.band = new Float32Array(W * (ay.hi - ay.outStart) * C);
      this.strip = new Float32Array(0);
    }
    const band = this.band;
    const prevBand = this.prevBand;
    const oldStrip = this.strip;
    const oldStripW = ax.inEnd - ax.lo;
    const newStripW = ax.hi - ax.outStart;
    const newStrip = new Float32Array(newStripW * (ay.outStart - ay.inEnd) * C);
    const px = this.px;
    const xw = new Float32Array(ax.hi - ax.lo);
    for (let x = ax.lo; x < ax.hi; x++) xw[x - ax.lo] = spanWeight(ax, x);

    for (let y = ay.lo; y < ay.hi; y++) {
      const wy = spanWeight(ay, y);
      const src = (y - Y0) * TW - X0; // plane index of (x, y) is src + x
      if (y >= ay.outStart) {
        // Bottom ramp: accumulate for the next tile row.
        const base = (y - ay.outStart) * W;
        for (let x = ax.lo; x < ax.hi; x++) {
          const w = wy * xw[x - ax.lo];
          const o = (base + x) * C;
          for (let k = 0; k < C; k++) band[o + k] += w * planes[k][src + x];
        }
      } else if (y < ay.inEnd) {
        // Top ramp: complete the sums the previous tile row started.
        const base = (y - ay.lo) * W;
        for (let x = ax.lo; x < ax.hi; x++) {
          const w = wy * xw[x - ax.lo];
          const o = (base + x) * C;
          for (let k = 0; k < C; k++) prevBand[o + k] += w * planes[k][src + x];
          if (x < ax.outStart) {
            for (let k = 0; k < C; k++) px[k] = prevBand[o + k];
            this.finalize(x, y);
          }
        }
      } else {
        const row = y - ay.inEnd;
        for (let x = ax.lo; x < ax.inEnd; x++) {
          const w = xw[x - ax.lo];
          const o = (row * oldStripW + x - ax.lo) * C;
          for (let k = 0; k < C; k++) px[k] = oldStrip[o + k] + w * planes[k][src + x];
          this.finalize(x, y);
        }
        if (this.gray) {
          for (let x = ax.inEnd; x < ax.outStart; x++) {
            for (let k = 0; k < C; k++) px[k] = planes[k][src + x];
            this.finalize(x, y);
          }
        } else {
          // The tile's own area, untouched by any ramp: straight copy (the hot loop).
          const d = block.data;
          const [p0, p1, p2, p3] = planes;
          const x0 = ax.inEnd;
          for (
            let x = x0, o = ((y - rect.y) * rect.width + x0 - rect.x) * 4;
            x < ax.outStart;
            x++, o += 4
          ) {
            const i = src + x;
            d[o] = p0[i];
            d[o + 1] = p1[i];
            d[o + 2] = p2[i];
            d[o + 3] = C === 4 ? p3[i] : 255;
          }
        }
        for (let x = ax.outStart; x < ax.hi; x++) {
          const w = xw[x - ax.lo];
          const o = (row * newStripW + x - ax.outStart) * C;
          for (let k = 0; k < C; k++) newStrip[o + k] = w * planes[k][src + x];
        }
      }
    }
    this.strip = newStrip;
    this.next++;
    return block;
  }

  /** True once every tile has been added. */
  get complete(): boolean {
    return this.next === this.plan.tiles.length;
  }

  private finalize(x: number, y: number): void {
    const { rect, data: d } = this.block;
    const px = this.px;
    const o = ((y - rect.y) * rect.width + x - rect.x) * 4;
    // Uint8ClampedArray stores clamp(round-half-even(v)).
    if (this.gray) {
      const m = (px[0] + px[1] + px[2]) / 3;
      d[o] = m;
      d[o + 1] = m;
      d[o + 2] = m;
    } else {
      d[o] = px[0];
      d[o + 1] = px[1];
      d[o + 2] = px[2];
    }
    d[o + 3] = this.channels === 4 ? px[3] : 255;
  }
}
