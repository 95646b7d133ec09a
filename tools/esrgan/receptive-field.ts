/**
 * Receptive-field bookkeeping for fully convolutional image-to-image graphs.
 *
 * Every value in the graph lives on a pixel grid `scale` times finer than the input's. For a value
 * on a grid of factor f, pixel P depends on input pixels within floor(P / f) ± radius(), where
 *   radius() = inputRadius + ceil(gridRadius / f):
 * `inputRadius` is the reach gathered before the last resolution change (in input pixels) and
 * `gridRadius` the reach of the convolutions since (in pixels of the current grid). Keeping the two
 * apart keeps the bound tight for chains of convolutions after an upsampling, and nearest / depth-to-
 * space upsampling maps grid pixel Q to floor(Q / s), which is exactly what floor(P / f) tracks.
 */
export interface Reach {
  /** Grid factor relative to the input (1 before any upsampling). */
  readonly scale: number;
  /** Reach in input pixels gathered on coarser grids. */
  readonly inputRadius: number;
  /** Reach in pixels of the current grid since the last resolution change. */
  readonly gridRadius: number;
}

export const inputReach: Reach = { scale: 1, inputRadius: 0, gridRadius: 0 };

/** Radius in input pixels: the margin a tile needs for its output to equal the untiled output. */
export function reachRadius(r: Reach): number {
  return r.inputRadius + Math.ceil(r.gridRadius / r.scale);
}

/** A stride-1 convolution reaching `radius` pixels of its own grid in each direction. */
export function convolve(r: Reach, radius: number): Reach {
  return { ...r, gridRadius: r.gridRadius + radius };
}

/** Nearest-neighbour or depth-to-space upsampling by an integer factor. */
export function upsample(r: Reach, factor: number): Reach {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upsample factor ${factor}`);
  return { scale: r.scale * factor, inputRadius: reachRadius(r), gridRadius: 0 };
}

/** An element-wise merge (Add, Concat): a conservative bound covering every operand. */
export function merge(reaches: readonly Reach[]): Reach {
  const scale = reaches[0].scale;
  if (reaches.some((r) => r.scale !== scale)) {
    throw new Error(`merging values on different grids: ${reaches.map((r) => r.scale).join(', ')}`);
  }
  return {
    scale,
    inputRadius: Math.max(...reaches.map((r) => r.inputRadius)),
    gridRadius: Math.max(...reaches.map((r) => r.gridRadius)),
  };
}
