/**
 * GroupNorm statistics over a whole image gathered tile by tile.
 *
 * Each tile adds only its core (the part of the image it owns), so every pixel counts once. Per
 * tile and group the values are reduced in float64 to a count, a mean and M2 = Σ(x − mean)², and
 * tiles are merged with Chan et al.'s pairwise update (addMoments merges per-channel moments that a
 * graph computed over the core the same way), whose M2 carries the between-tile term
 * δ²·nA·nB/(nA + nB): averaging per-tile variances without it underestimates the variance
 * wherever tile means differ.
 */

export interface CoreRect {
  /** The core within the tile's activation, in activation pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export class GroupStats {
  private readonly n: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(
    readonly channels: number,
    readonly groups: number,
  ) {
    if (channels % groups !== 0) throw new Error(`${channels} channels in ${groups} groups`);
    this.n = new Float64Array(groups);
    this.mean = new Float64Array(groups);
    this.m2 = new Float64Array(groups);
  }

  /** Adds `core` of a planar [channels, height, width] activation. */
  add(data: Float32Array, width: number, height: number, core: CoreRect): void {
    const { channels, groups } = this;
    if (data.length !== channels * width * height) {
      throw new Error(
        `activation has ${data.length} values, expected ${channels}×${height}×${width}`,
      );
    }
    if (core.x < 0 || core.y < 0 || core.x + core.width > width || core.y + core.height > height) {
      throw new Error('core outside the tile');
    }
    const per = channels / groups;
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      for (let c = g * per; c < (g + 1) * per; c++) {
        for (let y = core.y; y < core.y + core.height; y++) {
          const row = c * width * height + y * width;
          for (let x = core.x; x < core.x + core.width; x++) sum += data[row + x];
        }
      }
      const nB = per * core.width * core.height;
      if (nB === 0) continue;
      const meanB = sum / nB;
      let m2B = 0;
      for (let c = g * per; c < (g + 1) * per; c++) {
        for (let y = core.y; y < core.y + core.height; y++) {
          const row = c * width * height + y * width;
          for (let x = core.x; x < core.x + core.width; x++) {
            const d = data[row + x] - meanB;
            m2B += d * d;
          }
        }
      }
      this.merge(g, nB, meanB, m2B);
    }
  }

  /**
   * Adds per-channel moments over one tile's core (`count` values per channel: a segmented
   * graph's `core_mean` / `core_m2` outputs). Each channel is merged into its group as a partial
   * of its own, so the merge carries the between-channel and between-tile terms.
   */
  addMoments(count: number, mean: Float32Array, m2: Float32Array): void {
    const { channels, groups } = this;
    if (mean.length !== channels || m2.length !== channels) {
      throw new Error(`moments of ${mean.length}/${m2.length} channels, expected ${channels}`);
    }
    if (count === 0) return;
    const per = channels / groups;
    for (let c = 0; c < channels; c++) this.merge(Math.floor(c / per), count, mean[c], m2[c]);
  }

  /** Merges one group's partial statistics (count, mean, M2). */
  merge(g: number, nB: number, meanB: number, m2B: number): void {
    const nA = this.n[g];
    const n = nA + nB;
    const delta = meanB - this.mean[g];
    this.mean[g] += (delta * nB) / n;
    this.m2[g] += m2B + (delta * delta * nA * nB) / n;
    this.n[g] = n;
  }

  /** Values counted in group `g`. */
  count(g: number): number {
    return this.n[g];
  }

  /** Per-channel mean and 1/√(variance + eps) (population variance, as GroupNorm uses). */
  perChannel(eps: number): { mean: Float32Array; invstd: Float32Array } {
    const { channels, groups } = this;
    const per = channels / groups;
    const mean = new Float32Array(channels);
    const invstd = new Float32Array(channels);
    for (let g = 0; g < groups; g++) {
      if (this.n[g] === 0) throw new Error(`group ${g} has no values`);
      const variance = this.m2[g] / this.n[g];
      const s = 1 / Math.sqrt(variance + eps);
      mean.fill(this.mean[g], g * per, (g + 1) * per);
      invstd.fill(s, g * per, (g + 1) * per);
    }
    return { mean, invstd };
  }
}
