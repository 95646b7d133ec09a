/**
 * AutoencoderKL as the pack's two graphs:
 *   vae_encoder: sample [batch, 3, H, W] in [-1, 1] → latent_parameters [batch, 2·C, H/f, W/f]
 *                (quant_conv output: mean, then log-variance, stacked on channels);
 *   vae_decoder: latent_sample [batch, C, h, w] (raw, unscaled) → sample [batch, 3, h·f, w·f].
 */
import { checkWeights, type WeightSource } from '../../weight-source.ts';
import { downsample, resnet, upsample, vaeAttention } from '../sd-unet/blocks.ts';
import type { SdBuildOptions } from '../sd-unet/graph.ts';
import { SdGraph } from '../sd-unet/sd-graph.ts';
import {
  vaeDecoderSpecs,
  vaeEncoderSpecs,
  vaeTensorSpecs,
  type VaeMidPlan,
  type VaePlan,
} from './plan.ts';

function midBlock(sd: SdGraph, m: VaeMidPlan, x: string): string {
  let h = resnet(sd, m.resnets[0], x);
  if (m.attention) h = vaeAttention(sd, m.attention, h);
  return resnet(sd, m.resnets[1], h);
}

function finish(sd: SdGraph, specs: ReturnType<typeof vaeEncoderSpecs>, what: string): SdGraph {
  const unused = sd.unused(specs);
  if (unused.length)
    throw new Error(`${what} builder bug: tensors never used: ${unused.join(', ')}`);
  return sd;
}

/**
 * Checks `weights` against the AutoencoderKL tensor list: all of it, or only the encoder's
 * (encoder.*, quant_conv.*) or the decoder's (post_quant_conv.*, decoder.*) part, the other part
 * then being optional (a full checkpoint or a split one both work).
 */
export function checkVaeWeights(
  plan: VaePlan,
  weights: WeightSource,
  parts: 'both' | 'encoder' | 'decoder',
): void {
  if (parts === 'both') checkWeights(weights, vaeTensorSpecs(plan));
  else if (parts === 'encoder') checkWeights(weights, vaeEncoderSpecs(plan), vaeDecoderSpecs(plan));
  else checkWeights(weights, vaeDecoderSpecs(plan), vaeEncoderSpecs(plan));
}

export function buildVaeEncoderGraph(
  plan: VaePlan,
  weights: WeightSource,
  opts: SdBuildOptions,
): SdGraph {
  const c = plan.config;
  const sd = new SdGraph('vae_encoder', weights, opts);
  const x = sd.floatInput('sample', ['batch', c.inChannels, 'height', 'width']);
  let h = sd.conv('encoder.conv_in', x);
  for (const b of plan.encoder.blocks) {
    for (const r of b.resnets) h = resnet(sd, r, h);
    // diffusers pads (0, 1, 0, 1) — right and bottom — before a stride-2, unpadded conv.
    if (b.sampler) h = downsample(sd, b.sampler, h, [0, 0, 1, 1]);
  }
  h = midBlock(sd, plan.encoder.mid, h);
  h = sd.silu(sd.groupNorm('encoder.conv_norm_out', h, c.normNumGroups, 1e-6));
  h = sd.conv('encoder.conv_out', h);
  if (c.useQuantConv) h = sd.conv('quant_conv', h, { pads: [0, 0, 0, 0] });
  sd.floatOutput(h, 'latent_parameters', [
    'batch',
    2 * c.latentChannels,
    'latent_height',
    'latent_width',
  ]);
  return finish(sd, vaeEncoderSpecs(plan), 'vae_encoder');
}

export function buildVaeDecoderGraph(
  plan: VaePlan,
  weights: WeightSource,
  opts: SdBuildOptions,
): SdGraph {
  const c = plan.config;
  const sd = new SdGraph('vae_decoder', weights, opts);
  let h = sd.floatInput('latent_sample', [
    'batch',
    c.latentChannels,
    'latent_height',
    'latent_width',
  ]);
  if (c.usePostQuantConv) h = sd.conv('post_quant_conv', h, { pads: [0, 0, 0, 0] });
  h = sd.conv('decoder.conv_in', h);
  h = midBlock(sd, plan.decoder.mid, h);
  for (const b of plan.decoder.blocks) {
    for (const r of b.resnets) h = resnet(sd, r, h);
    if (b.sampler) h = upsample(sd, b.sampler, h);
  }
  h = sd.silu(sd.groupNorm('decoder.conv_norm_out', h, c.normNumGroups, 1e-6));
  h = sd.conv('decoder.conv_out', h);
  sd.floatOutput(h, 'sample', ['batch', c.outChannels, 'height', 'width']);
  return finish(sd, vaeDecoderSpecs(plan), 'vae_decoder');
}
