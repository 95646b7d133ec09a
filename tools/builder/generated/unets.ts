/**
 * Generated UNets with the exact pack interface (`sample`, `timestep`, `encoder_hidden_states` →
 * `out_sample`), for testing the pipeline without GenDR's unpublished weights:
 *  - identityUnet: ε = sample, with timestep and embedding wired into the graph contributing zero,
 *    so with α = σ = 0.5 the step z₀ = (z − σ·ε)/α is exactly the identity;
 *  - tinyUnet: a small SD-like UNet (time embedding, ResBlocks with GroupNorm, a stride-2
 *    downsampling, self- and cross-attention over the embedding, nearest upsampling with a skip)
 *    with seeded random weights: a real receptive field and real cross-attention at toy width.
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { Layers } from '../layers.ts';
import type { BuiltGraph } from '../architectures/types.ts';
import type { Precision } from '../weights.ts';
import { RandomNet } from './net.ts';

export interface UnetInterface {
  latentChannels: number;
  /** [batch, tokens, width], e.g. [1, 77, 1024]. */
  embeddingShape: readonly [number, number, number];
  timestepType: 'int64' | 'float32';
  /** [1] (optimum, diffusers) or [] (a scalar). */
  timestepDims: readonly number[];
  precision: Precision;
}

function declareInputs(g: GraphBuilder, L: Layers, io: UnetInterface) {
  const sample = g.input('sample', L.dtype, [
    1,
    io.latentChannels,
    'latent_height',
    'latent_width',
  ]);
  const timestep = g.input('timestep', io.timestepType, [...io.timestepDims]);
  const ehs = g.input('encoder_hidden_states', L.dtype, [...io.embeddingShape]);
  return { sample, timestep, ehs };
}

function finish(
  g: GraphBuilder,
  L: Layers,
  out: string,
  io: UnetInterface,
  label: string,
): BuiltGraph {
  g.output(out, 'out_sample', L.dtype, [1, io.latentChannels, 'latent_height', 'latent_width']);
  return {
    component: 'unet',
    model: g.toBytes(label),
    parameters: g.parameterCount,
    nodes: g.nodeCount,
  };
}

export function identityUnet(io: UnetInterface): BuiltGraph {
  const g = new GraphBuilder('unet');
  const L = new Layers(g, io.precision);
  const { sample, timestep, ehs } = declareInputs(g, L, io);
  // zero = 0 · (mean(embedding) + float(timestep)), shape [1], broadcast onto the latent.
  const embMean = g.node('ReduceMean', [ehs], { keepdims: 0 });
  const t = L.toFloat(g.node('Reshape', [timestep, g.constI64('t_shape', [1])]));
  const zero = L.scale(L.add(embMean, t), 0, 'wired_zero');
  return finish(g, L, L.add(sample, zero), io, 'gendr-web builder (identity unet)');
}

export function tinyUnet(io: UnetInterface, seed = 1, width = 32): BuiltGraph {
  const g = new GraphBuilder('unet');
  const L = new Layers(g, io.precision);
  const net = new RandomNet(L, seed);
  const { sample, timestep, ehs } = declareInputs(g, L, io);
  const C = io.latentChannels;
  const groups = 8;
  const w2 = width * 2;

  // Sinusoidal timestep embedding → MLP → [1, width, 1, 1] and [1, 2·width, 1, 1].
  const half = 16;
  const freqs = Float32Array.from({ length: half }, (_, i) =>
    Math.exp((-Math.log(10000) * i) / half),
  );
  const tf = g.node('Reshape', [L.toFloat(timestep), g.constI64('t_shape', [1, 1])]);
  const args = L.mul(tf, L.weight('t_freqs', freqs, [1, half]));
  const sinus = g.node('Concat', [g.node('Sin', [args]), g.node('Cos', [args])], { axis: 1 });
  const temb = net.linear('time.l2', L.silu(net.linear('time.l1', sinus, 2 * half, w2)), w2, w2);
  const tembA = g.node('Reshape', [
    net.linear('time.a', L.silu(temb), w2, width, 0.3),
    g.constI64('ta', [1, width, 1, 1]),
  ]);
  const tembB = g.node('Reshape', [
    net.linear('time.b', L.silu(temb), w2, w2, 0.3),
    g.constI64('tb', [1, w2, 1, 1]),
  ]);

  const context = { value: ehs, dim: io.embeddingShape[2] };
  let h = net.conv('conv_in', sample, C, width);
  h = net.resBlock('down.res', h, width, groups, tembA);
  const skip = h;
  h = net.conv('down.sample', h, width, w2, 3, 2);
  h = net.resBlock('mid.res', h, w2, groups, tembB);
  h = net.attention('mid.self_attn', h, w2, groups);
  h = net.attention('mid.cross_attn', h, w2, groups, context);
  h = L.upsampleNearest(h, 2);
  h = net.conv('up.conv', h, w2, width);
  h = g.node('Concat', [h, skip], { axis: 1 });
  h = net.conv('up.merge', h, 2 * width, width);
  h = net.resBlock('up.res', h, width, groups, tembA);
  h = net.attention('up.cross_attn', h, width, groups, context);
  h = L.silu(net.groupNorm('norm_out', h, width, groups));
  const out = net.conv('conv_out', h, width, C, 3, 1, 0.5);
  return finish(g, L, out, io, 'gendr-web builder (tiny unet)');
}
