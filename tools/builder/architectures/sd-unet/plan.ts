/**
 * The UNet2DConditionModel laid out block by block from its config, following diffusers'
 * constructor: channel bookkeeping of the down, mid and up paths, heads per block, and which
 * blocks resample. The tensor list (unetTensorSpecs) and the ONNX graph (buildUnetGraph) are both
 * derived from this plan.
 */
import type { TensorSpec } from '../../weight-source.ts';
import {
  convSpecs,
  normSpecs,
  resnetSpecs,
  samplerSpecs,
  transformerSpecs,
  type ResnetPlan,
  type SamplerPlan,
  type TransformerPlan,
} from './blocks.ts';
import type { UnetConfig } from './config.ts';

export interface UnetBlockPlan {
  resnets: ResnetPlan[];
  /** One per resnet in cross-attention blocks (applied after it), empty otherwise. */
  attentions: TransformerPlan[];
  sampler?: SamplerPlan;
}

export interface UnetPlan {
  config: UnetConfig;
  timeEmbedDim: number;
  down: UnetBlockPlan[];
  /** resnets[0], then attentions[i] followed by resnets[i + 1]. */
  mid: UnetBlockPlan;
  up: UnetBlockPlan[];
}

export function planUnet(config: UnetConfig): UnetPlan {
  const c = config;
  const n = c.blockOutChannels.length;
  const temb = c.blockOutChannels[0] * 4;
  const resnet = (
    prefix: string,
    inChannels: number,
    outChannels: number,
    outputScale = 1,
  ): ResnetPlan => ({
    prefix,
    inChannels,
    outChannels,
    tembChannels: temb,
    groups: c.normNumGroups,
    eps: c.normEps,
    outputScale,
  });
  const transformer = (
    prefix: string,
    channels: number,
    block: number,
    layers: number,
  ): TransformerPlan => ({
    prefix,
    channels,
    heads: c.heads[block],
    layers,
    crossAttentionDim: c.crossAttentionDim[block],
    linearProjection: c.useLinearProjection,
    groups: c.normNumGroups,
    upcastAttention: c.upcastAttention,
  });

  const down: UnetBlockPlan[] = [];
  let out = c.blockOutChannels[0];
  for (let i = 0; i < n; i++) {
    const inp = out;
    out = c.blockOutChannels[i];
    const p = `down_blocks.${i}`;
    const block: UnetBlockPlan = { resnets: [], attentions: [] };
    for (let j = 0; j < c.layersPerBlock[i]; j++) {
      block.resnets.push(resnet(`${p}.resnets.${j}`, j === 0 ? inp : out, out));
      if (c.downBlockTypes[i] === 'CrossAttnDownBlock2D') {
        block.attentions.push(
          transformer(`${p}.attentions.${j}`, out, i, c.transformerLayersPerBlock[i]),
        );
      }
    }
    if (i < n - 1) block.sampler = { prefix: `${p}.downsamplers.0`, channels: out };
    down.push(block);
  }

  const last = c.blockOutChannels[n - 1];
  const mid: UnetBlockPlan = {
    resnets: [
      resnet('mid_block.resnets.0', last, last, c.midBlockScaleFactor),
      resnet('mid_block.resnets.1', last, last, c.midBlockScaleFactor),
    ],
    attentions: [
      transformer('mid_block.attentions.0', last, n - 1, c.transformerLayersPerBlock[n - 1]),
    ],
  };

  const rev = [...c.blockOutChannels].reverse();
  const revLayers = [...c.layersPerBlock].reverse();
  const revTransformerLayers = [...c.transformerLayersPerBlock].reverse();
  const up: UnetBlockPlan[] = [];
  out = rev[0];
  for (let i = 0; i < n; i++) {
    const prev = out;
    out = rev[i];
    const inp = rev[Math.min(i + 1, n - 1)];
    const p = `up_blocks.${i}`;
    const layers = revLayers[i] + 1;
    const block: UnetBlockPlan = { resnets: [], attentions: [] };
    for (let j = 0; j < layers; j++) {
      const skip = j === layers - 1 ? inp : out;
      const resIn = j === 0 ? prev : out;
      block.resnets.push(resnet(`${p}.resnets.${j}`, resIn + skip, out));
      if (c.upBlockTypes[i] === 'CrossAttnUpBlock2D') {
        // Heads and cross-attention width of the mirrored down block.
        block.attentions.push(
          transformer(`${p}.attentions.${j}`, out, n - 1 - i, revTransformerLayers[i]),
        );
      }
    }
    if (i < n - 1) block.sampler = { prefix: `${p}.upsamplers.0`, channels: out };
    up.push(block);
  }
  return { config, timeEmbedDim: temb, down, mid, up };
}

function blockSpecs(b: UnetBlockPlan, interleaved: boolean): TensorSpec[] {
  const specs: TensorSpec[] = [];
  if (interleaved) {
    b.resnets.forEach((r, j) => {
      specs.push(...resnetSpecs(r));
      if (b.attentions[j]) specs.push(...transformerSpecs(b.attentions[j]));
    });
  } else {
    specs.push(...resnetSpecs(b.resnets[0]));
    b.attentions.forEach((a, j) =>
      specs.push(...transformerSpecs(a), ...resnetSpecs(b.resnets[j + 1])),
    );
  }
  if (b.sampler) specs.push(...samplerSpecs(b.sampler));
  return specs;
}

/** Every tensor of a diffusers UNet2DConditionModel checkpoint of this config, with its shape. */
export function unetTensorSpecs(plan: UnetPlan): TensorSpec[] {
  const c = plan.config;
  const c0 = c.blockOutChannels[0];
  const t = plan.timeEmbedDim;
  return [
    ...convSpecs('conv_in', c0, c.inChannels, c.convInKernel),
    { name: 'time_embedding.linear_1.weight', shape: [t, c0] },
    { name: 'time_embedding.linear_1.bias', shape: [t] },
    { name: 'time_embedding.linear_2.weight', shape: [t, t] },
    { name: 'time_embedding.linear_2.bias', shape: [t] },
    ...plan.down.flatMap((b) => blockSpecs(b, true)),
    ...blockSpecs(plan.mid, false),
    ...plan.up.flatMap((b) => blockSpecs(b, true)),
    ...normSpecs('conv_norm_out', c0),
    ...convSpecs('conv_out', c.outChannels, c0, c.convOutKernel),
  ];
}
