/**
 * A tiny generated KL-VAE shaped like diffusers' AutoencoderKL at toy width: ×8 down/up-sampling,
 * GroupNorm, a global self-attention mid block, an encoder that returns `latent_parameters`
 * (mean and log-variance stacked on channels, like optimum's export) and images in [−1, 1].
 */
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { Layers } from '../layers.ts';
import type { BuiltGraph, VaeBuild } from '../architectures/types.ts';
import type { Precision } from '../weights.ts';
import { RandomNet } from './net.ts';

export function tinyKlVae(
  latentChannels: number,
  precision: Precision,
  seed = 7,
  width = 16,
): VaeBuild {
  const groups = 4;
  const C = latentChannels;

  const enc = new GraphBuilder('vae_encoder');
  const Le = new Layers(enc, precision);
  const ne = new RandomNet(Le, seed);
  let x = enc.input('sample', Le.dtype, [1, 3, 'height', 'width']);
  x = ne.conv('conv_in', x, 3, width);
  x = ne.conv('down0', Le.silu(x), width, width, 3, 2);
  x = ne.conv('down1', Le.silu(x), width, 2 * width, 3, 2);
  x = ne.conv('down2', Le.silu(x), 2 * width, 2 * width, 3, 2);
  x = ne.resBlock('mid.res', x, 2 * width, groups);
  x = ne.attention('mid.attn', x, 2 * width, groups);
  x = Le.silu(ne.groupNorm('norm_out', x, 2 * width, groups));
  x = ne.conv('conv_out', x, 2 * width, 2 * C, 3, 1, 0.7);
  enc.output(x, 'latent_parameters', Le.dtype, [1, 2 * C, 'latent_height', 'latent_width']);

  const dec = new GraphBuilder('vae_decoder');
  const Ld = new Layers(dec, precision);
  const nd = new RandomNet(Ld, seed + 1);
  let z = dec.input('latent_sample', Ld.dtype, [1, C, 'latent_height', 'latent_width']);
  z = nd.conv('conv_in', z, C, 2 * width);
  z = nd.resBlock('mid.res', z, 2 * width, groups);
  z = nd.attention('mid.attn', z, 2 * width, groups);
  z = nd.conv('up0', Ld.upsampleNearest(Ld.silu(z), 2), 2 * width, 2 * width);
  z = nd.conv('up1', Ld.upsampleNearest(Ld.silu(z), 2), 2 * width, width);
  z = nd.conv('up2', Ld.upsampleNearest(Ld.silu(z), 2), width, width);
  z = Ld.silu(nd.groupNorm('norm_out', z, width, groups));
  z = Ld.g.node('Tanh', [nd.conv('conv_out', z, width, 3, 3, 1, 0.7)]);
  dec.output(z, 'sample', Ld.dtype, [1, 3, 'height', 'width']);

  const graph = (g: GraphBuilder, component: BuiltGraph['component']): BuiltGraph => ({
    component,
    model: g.toBytes('gendr-web builder (tiny kl-vae)'),
    parameters: g.parameterCount,
    nodes: g.nodeCount,
  });
  return {
    graphs: [graph(enc, 'vae_encoder'), graph(dec, 'vae_decoder')],
    facts: {
      latentChannels: C,
      downscaleFactor: 8,
      imageRange: [-1, 1],
      encoderOutput: 'latent_parameters',
    },
  };
}
