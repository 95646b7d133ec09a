/**
 * Building blocks with seeded random weights for generated test graphs: convolutions, GroupNorm,
 * residual blocks and (cross-)attention shaped like Stable Diffusion's, at toy widths.
 */
import type { Layers } from '../layers.ts';
import { SeededRandom } from './random.ts';

export class RandomNet {
  readonly rng: SeededRandom;

  constructor(
    readonly L: Layers,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
  }

  /** Conv with He-like initialization scaled by `gain`. */
  conv(name: string, x: string, cin: number, cout: number, k = 3, stride = 1, gain = 1): string {
    const w = this.rng.normals(cout * cin * k * k, gain * Math.sqrt(1 / (cin * k * k)));
    const b = this.rng.normals(cout, 0.02);
    return this.L.conv2d(name, x, w, [cout, cin, k, k], b, { stride });
  }

  groupNorm(name: string, x: string, channels: number, groups: number): string {
    const gamma = Float32Array.from({ length: channels }, () => 1 + 0.1 * this.rng.normal());
    const beta = this.rng.normals(channels, 0.05);
    return this.L.groupNorm(name, x, groups, gamma, beta, 1e-6);
  }

  linear(name: string, x: string, inp: number, out: number, gain = 1): string {
    const w = this.rng.normals(out * inp, gain * Math.sqrt(1 / inp));
    return this.L.linear(name, x, w, out, inp, this.rng.normals(out, 0.02));
  }

  /** GroupNorm → SiLU → conv → (+ time embedding) → GroupNorm → SiLU → conv, plus the input. */
  resBlock(name: string, x: string, channels: number, groups: number, temb?: string): string {
    let h = this.L.silu(this.groupNorm(`${name}.norm1`, x, channels, groups));
    h = this.conv(`${name}.conv1`, h, channels, channels);
    if (temb) h = this.L.add(h, temb);
    h = this.L.silu(this.groupNorm(`${name}.norm2`, h, channels, groups));
    h = this.conv(`${name}.conv2`, h, channels, channels, 3, 1, 0.5);
    return this.L.add(x, h);
  }

  /**
   * Single-head attention of the feature map's pixels over `context` ([1, tokens, contextDim];
   * the feature map itself when absent): x + proj(softmax(q·kᵀ/√d)·v), in NCHW.
   */
  attention(
    name: string,
    x: string,
    channels: number,
    groups: number,
    context?: { value: string; dim: number },
  ): string {
    const { g } = this.L;
    const normed = this.groupNorm(`${name}.norm`, x, channels, groups);
    const flat = g.node('Reshape', [normed, g.constI64(`${name}.flat`, [0, channels, -1])]);
    const tokens = g.node('Transpose', [flat], { perm: [0, 2, 1] }); // [1, hw, C]
    const q = this.linear(`${name}.to_q`, tokens, channels, channels);
    const src = context?.value ?? tokens;
    const srcDim = context?.dim ?? channels;
    const k = this.linear(`${name}.to_k`, src, srcDim, channels);
    const v = this.linear(`${name}.to_v`, src, srcDim, channels);
    const kt = g.node('Transpose', [k], { perm: [0, 2, 1] });
    const scores = this.L.scale(
      g.node('MatMul', [q, kt]),
      1 / Math.sqrt(channels),
      `${name}.scale`,
    );
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const attended = this.linear(
      `${name}.to_out`,
      g.node('MatMul', [probs, v]),
      channels,
      channels,
      0.5,
    );
    const back = g.node('Transpose', [attended], { perm: [0, 2, 1] });
    const shaped = g.node('Reshape', [back, g.node('Shape', [x])]);
    return this.L.add(x, shaped);
  }
}
