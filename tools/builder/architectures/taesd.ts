/**
 * The TAESD family of tiny autoencoders (madebyollin/taesd: TAESD, TAESDXL, TAESD3, TAEF1, TAEF2).
 * Module indices are fixed across the family; what varies (latent channels, the FLUX.2 variant's
 * GroupNorm "pool" branch inside the deepest blocks) is read from the weights themselves.
 *
 *  Block(n): conv.0 → ReLU → conv.2 → ReLU → conv.4, plus skip (identity or 1×1 `skip`), ReLU.
 *            With `pool.*` tensors, first x = x + pool(x): 1×1 → GroupNorm(4) → ReLU → 1×1.
 *  Encoder:  0 conv(3→64); 1 Block; 2 conv/2; 3-5 Blocks; 6 conv/2; 7-9; 10 conv/2; 11-13; 14 conv(64→C).
 *  Decoder:  0 tanh(x/3)·3; 1 conv(C→64); 2 ReLU; 3-5 Blocks; 6 ×2; 7 conv; 8-10; 11 ×2; 12 conv;
 *            13-15; 16 ×2; 17 conv; 18 Block; 19 conv(64→3).
 * Images are in [0, 1]; latents are raw (unscaled).
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { Layers } from '../layers.ts';
import type { WeightStore } from '../weights.ts';
import type { BuildOptions, BuiltGraph, VaeBuild } from './types.ts';

type Step =
  | { kind: 'conv'; index: number; stride?: number }
  | { kind: 'block'; index: number }
  | { kind: 'relu'; index: number }
  | { kind: 'upsample'; index: number }
  | { kind: 'clamp'; index: number };

const conv = (index: number, stride?: number): Step => ({ kind: 'conv', index, stride });
const blocks = (...indices: number[]): Step[] => indices.map((index) => ({ kind: 'block', index }));

const ENCODER: Step[] = [
  conv(0),
  ...blocks(1),
  conv(2, 2),
  ...blocks(3, 4, 5),
  conv(6, 2),
  ...blocks(7, 8, 9),
  conv(10, 2),
  ...blocks(11, 12, 13),
  conv(14),
];

const DECODER: Step[] = [
  { kind: 'clamp', index: 0 },
  conv(1),
  { kind: 'relu', index: 2 },
  ...blocks(3, 4, 5),
  { kind: 'upsample', index: 6 },
  conv(7),
  ...blocks(8, 9, 10),
  { kind: 'upsample', index: 11 },
  conv(12),
  ...blocks(13, 14, 15),
  { kind: 'upsample', index: 16 },
  conv(17),
  ...blocks(18),
  conv(19),
];

const POOL_GROUPS = 4;

function convLayer(L: Layers, w: WeightStore, name: string, x: string, stride = 1): string {
  const shape = w.shape(`${name}.weight`);
  if (shape.length !== 4) throw new Error(`${w.label}: ${name}.weight is not a conv kernel`);
  const dims = shape as [number, number, number, number];
  const bias = w.has(`${name}.bias`) ? w.f32(`${name}.bias`, [dims[0]]) : undefined;
  return L.conv2d(name, x, w.f32(`${name}.weight`, dims), dims, bias, { stride });
}

function block(L: Layers, w: WeightStore, i: number, x: string): string {
  let h = x;
  if (w.has(`${i}.pool.0.weight`)) {
    let p = convLayer(L, w, `${i}.pool.0`, h);
    const c = w.shape(`${i}.pool.0.weight`)[0];
    p = L.groupNorm(
      `${i}.pool.1`,
      p,
      POOL_GROUPS,
      w.f32(`${i}.pool.1.weight`, [c]),
      w.f32(`${i}.pool.1.bias`, [c]),
    );
    p = convLayer(L, w, `${i}.pool.3`, L.relu(p));
    h = L.add(h, p);
  }
  let y = L.relu(convLayer(L, w, `${i}.conv.0`, h));
  y = L.relu(convLayer(L, w, `${i}.conv.2`, y));
  y = convLayer(L, w, `${i}.conv.4`, y);
  const skip = w.has(`${i}.skip.weight`) ? convLayer(L, w, `${i}.skip`, h) : h;
  return L.relu(L.add(y, skip));
}

function buildStack(
  steps: Step[],
  w: WeightStore,
  opts: BuildOptions,
  io: { graph: string; input: string; output: string; inChannels: number; outChannels: number },
): BuiltGraph {
  const g = new GraphBuilder(io.graph, opts.opset ?? 17);
  const L = new Layers(g, opts.precision);
  let x = g.input(io.input, L.dtype, [1, io.inChannels, 'height', 'width']);
  for (const s of steps) {
    switch (s.kind) {
      case 'conv':
        x = convLayer(L, w, String(s.index), x, s.stride);
        break;
      case 'block':
        x = block(L, w, s.index, x);
        break;
      case 'relu':
        x = L.relu(x);
        break;
      case 'upsample':
        x = L.upsampleNearest(x, 2);
        break;
      case 'clamp':
        x = L.softClamp(x, 3);
        break;
    }
  }
  const outH = io.graph === 'vae_encoder' ? 'latent_height' : 'out_height';
  const outW = io.graph === 'vae_encoder' ? 'latent_width' : 'out_width';
  g.output(x, io.output, L.dtype, [1, io.outChannels, outH, outW]);
  w.assertAllUsed();
  return {
    component: io.graph as BuiltGraph['component'],
    model: g.toBytes('gendr-web builder (taesd)'),
    parameters: g.parameterCount,
    nodes: g.nodeCount,
  };
}

/** Latent channels from the encoder's last conv (or the decoder's first). */
function latentChannels(encoder?: WeightStore, decoder?: WeightStore): number {
  const fromEnc = encoder ? encoder.shape('14.weight')[0] : undefined;
  const fromDec = decoder ? decoder.shape('1.weight')[1] : undefined;
  if (fromEnc !== undefined && fromDec !== undefined && fromEnc !== fromDec) {
    throw new Error(
      `taesd: encoder makes ${fromEnc} latent channels but the decoder takes ${fromDec}`,
    );
  }
  const c = fromEnc ?? fromDec;
  if (c === undefined) throw new Error('taesd: need an encoder or a decoder');
  return c;
}

export function buildTaesd(
  weights: { encoder?: WeightStore; decoder?: WeightStore },
  opts: BuildOptions,
): VaeBuild {
  const c = latentChannels(weights.encoder, weights.decoder);
  const graphs: BuiltGraph[] = [];
  if (weights.encoder) {
    const built = buildStack(ENCODER, weights.encoder, opts, {
      graph: 'vae_encoder',
      input: 'sample',
      output: 'latent_sample',
      inChannels: 3,
      outChannels: c,
    });
    graphs.push(built);
  }
  if (weights.decoder) {
    const built = buildStack(DECODER, weights.decoder, opts, {
      graph: 'vae_decoder',
      input: 'latent_sample',
      output: 'sample',
      inChannels: c,
      outChannels: 3,
    });
    graphs.push(built);
  }
  return {
    graphs,
    facts: {
      latentChannels: c,
      downscaleFactor: 8,
      imageRange: [0, 1],
      encoderOutput: 'latent_sample',
    },
  };
}
