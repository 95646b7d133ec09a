/**
 * AutoencoderKL laid out from its config as diffusers' Encoder and Decoder build it: the encoder's
 * DownEncoderBlock2Ds (layers_per_block resnets, a stride-2 conv except in the last), the
 * UNetMidBlock2D (resnet, single-head attention, resnet; eps 1e-6), then GroupNorm → SiLU →
 * conv_out to 2 × latent_channels (mean and log-variance) and quant_conv; the decoder mirrors it
 * after post_quant_conv with UpDecoderBlock2Ds of layers_per_block + 1 resnets.
 */
import type { TensorSpec } from '../../weight-source.ts';
import {
  convSpecs,
  normSpecs,
  resnetSpecs,
  samplerSpecs,
  vaeAttentionSpecs,
  type ResnetPlan,
  type SamplerPlan,
  type VaeAttentionPlan,
} from '../sd-unet/blocks.ts';
import type { VaeConfig } from './config.ts';

export interface VaeStagePlan {
  resnets: ResnetPlan[];
  sampler?: SamplerPlan;
}

export interface VaeMidPlan {
  resnets: [ResnetPlan, ResnetPlan];
  attention?: VaeAttentionPlan;
}

export interface VaePlan {
  config: VaeConfig;
  encoder: { blocks: VaeStagePlan[]; mid: VaeMidPlan };
  decoder: { blocks: VaeStagePlan[]; mid: VaeMidPlan };
  /** Image pixels per latent pixel along each axis. */
  downscaleFactor: number;
}

const EPS = 1e-6;

export function planVae(config: VaeConfig): VaePlan {
  const c = config;
  const n = c.blockOutChannels.length;
  const groups = c.normNumGroups;
  const resnet = (prefix: string, inChannels: number, outChannels: number): ResnetPlan => ({
    prefix,
    inChannels,
    outChannels,
    groups,
    eps: EPS,
    outputScale: 1,
  });
  const mid = (prefix: string, ch: number): VaeMidPlan => ({
    resnets: [resnet(`${prefix}.resnets.0`, ch, ch), resnet(`${prefix}.resnets.1`, ch, ch)],
    attention: c.midBlockAddAttention
      ? { prefix: `${prefix}.attentions.0`, channels: ch, groups, eps: EPS }
      : undefined,
  });

  const encBlocks: VaeStagePlan[] = [];
  let out = c.blockOutChannels[0];
  for (let i = 0; i < n; i++) {
    const inp = out;
    out = c.blockOutChannels[i];
    const p = `encoder.down_blocks.${i}`;
    encBlocks.push({
      resnets: Array.from({ length: c.layersPerBlock }, (_, j) =>
        resnet(`${p}.resnets.${j}`, j === 0 ? inp : out, out),
      ),
      sampler: i < n - 1 ? { prefix: `${p}.downsamplers.0`, channels: out } : undefined,
    });
  }

  const rev = [...c.blockOutChannels].reverse();
  const decBlocks: VaeStagePlan[] = [];
  out = rev[0];
  for (let i = 0; i < n; i++) {
    const prev = out;
    out = rev[i];
    const p = `decoder.up_blocks.${i}`;
    decBlocks.push({
      resnets: Array.from({ length: c.layersPerBlock + 1 }, (_, j) =>
        resnet(`${p}.resnets.${j}`, j === 0 ? prev : out, out),
      ),
      sampler: i < n - 1 ? { prefix: `${p}.upsamplers.0`, channels: out } : undefined,
    });
  }
  const last = c.blockOutChannels[n - 1];
  return {
    config,
    encoder: { blocks: encBlocks, mid: mid('encoder.mid_block', last) },
    decoder: { blocks: decBlocks, mid: mid('decoder.mid_block', last) },
    downscaleFactor: 2 ** (n - 1),
  };
}

function stageSpecs(blocks: VaeStagePlan[]): TensorSpec[] {
  return blocks.flatMap((b) => [
    ...b.resnets.flatMap(resnetSpecs),
    ...(b.sampler ? samplerSpecs(b.sampler) : []),
  ]);
}

function midSpecs(m: VaeMidPlan): TensorSpec[] {
  return [
    ...resnetSpecs(m.resnets[0]),
    ...(m.attention ? vaeAttentionSpecs(m.attention) : []),
    ...resnetSpecs(m.resnets[1]),
  ];
}

/** The encoder's tensors (encoder.* and quant_conv.*). */
export function vaeEncoderSpecs(plan: VaePlan): TensorSpec[] {
  const c = plan.config;
  const c0 = c.blockOutChannels[0];
  const last = c.blockOutChannels[c.blockOutChannels.length - 1];
  const moments = 2 * c.latentChannels;
  return [
    ...convSpecs('encoder.conv_in', c0, c.inChannels, 3),
    ...stageSpecs(plan.encoder.blocks),
    ...midSpecs(plan.encoder.mid),
    ...normSpecs('encoder.conv_norm_out', last),
    ...convSpecs('encoder.conv_out', moments, last, 3),
    ...(c.useQuantConv ? convSpecs('quant_conv', moments, moments, 1) : []),
  ];
}

/** The decoder's tensors (post_quant_conv.* and decoder.*). */
export function vaeDecoderSpecs(plan: VaePlan): TensorSpec[] {
  const c = plan.config;
  const c0 = c.blockOutChannels[0];
  const last = c.blockOutChannels[c.blockOutChannels.length - 1];
  const L = c.latentChannels;
  return [
    ...(c.usePostQuantConv ? convSpecs('post_quant_conv', L, L, 1) : []),
    ...convSpecs('decoder.conv_in', last, L, 3),
    ...midSpecs(plan.decoder.mid),
    ...stageSpecs(plan.decoder.blocks),
    ...normSpecs('decoder.conv_norm_out', c0),
    ...convSpecs('decoder.conv_out', c.outChannels, c0, 3),
  ];
}

/** Every tensor of a diffusers AutoencoderKL checkpoint of this config. */
export function vaeTensorSpecs(plan: VaePlan): TensorSpec[] {
  return [...vaeEncoderSpecs(plan), ...vaeDecoderSpecs(plan)];
}
