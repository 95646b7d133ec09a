/**
 * Tiny diffusers configs for the SD builder tests (block_out_channels (32, 64), cross_attention_dim
 * 32, a few heads), deterministic inputs, and running a built graph on onnxruntime-node.
 */
import * as ort from 'onnxruntime-node';
import { parseUnetConfig } from '../../tools/builder/architectures/sd-unet/config.ts';
import { parseVaeConfig } from '../../tools/builder/architectures/sd-vae/config.ts';
import { writeSdPack, type SdPackOptions } from '../../tools/builder/sd-pack.ts';
import { float32ToHalfArray, halfArrayToFloat32 } from '../../engine/latent/float16.ts';
import type { PackManifest } from '../../engine/latent/manifest.ts';

/** GenDR-shaped tiny UNet: 16 latent channels, linear projections, 2 resnets per block. */
export const TINY_UNET = {
  _class_name: 'UNet2DConditionModel',
  block_out_channels: [32, 64],
  down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
  attention_head_dim: [2, 4],
  cross_attention_dim: 32,
  layers_per_block: 2,
  norm_num_groups: 8,
  in_channels: 16,
  out_channels: 16,
  use_linear_projection: true,
  flip_sin_to_cos: true,
  freq_shift: 0,
};

/** The other variants: conv projections, two transformer layers, sin-first embedding, shift 1. */
export const TINY_UNET_CONV = {
  ...TINY_UNET,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
  attention_head_dim: 4,
  layers_per_block: 1,
  transformer_layers_per_block: 2,
  in_channels: 4,
  out_channels: 4,
  use_linear_projection: false,
  flip_sin_to_cos: false,
  freq_shift: 1,
};

export const TINY_VAE = {
  _class_name: 'AutoencoderKL',
  block_out_channels: [32, 64],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'],
  latent_channels: 16,
  layers_per_block: 1,
  norm_num_groups: 8,
  scaling_factor: 0.24447420268654824,
};

/** A smooth deterministic signal in about [-1, 1]. */
export function signal(n: number, freq: number, phase = 0): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => Math.sin(i * freq + phase) * Math.cos(i * 0.013),
  );
}

export interface UnetFeeds {
  sample: Float32Array;
  sampleDims: number[];
  timestep: number;
  context: Float32Array;
  contextDims: number[];
}

export function unetFeeds(
  channels: number,
  size: number,
  tokens: number,
  width: number,
  seed = 0,
): UnetFeeds {
  return {
    sample: signal(channels * size * size, 0.37 + seed),
    sampleDims: [1, channels, size, size],
    timestep: 500,
    context: signal(tokens * width, 0.11 + seed, 1),
    contextDims: [1, tokens, width],
  };
}

export async function session(model: Uint8Array | string): Promise<ort.InferenceSession> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, { intraOpNumThreads: 2 })
    : ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
}

/** The float type the session declares for `input` (fp16 graphs may take float32 or float16). */
export function declaredType(s: ort.InferenceSession, input: string): 'float32' | 'float16' {
  const m = s.inputMetadata.find((x) => x.name === input);
  return m?.isTensor && m.type === 'float16' ? 'float16' : 'float32';
}

/** `values` as a tensor of the type `s` declares for `input`. */
function floatFeed(s: ort.InferenceSession, input: string, values: Float32Array, dims: number[]) {
  return declaredType(s, input) === 'float16'
    ? new ort.Tensor('float16', float32ToHalfArray(values), dims)
    : new ort.Tensor('float32', values, dims);
}

function toFloat32(t: ort.Tensor): Float32Array {
  return t.type === 'float32'
    ? (t.data as Float32Array)
    : halfArrayToFloat32(t.data as Uint16Array);
}

/** Runs a UNet graph, feeding floats in the types it declares (float32 or float16). */
export async function runUnet(s: ort.InferenceSession, f: UnetFeeds): Promise<Float32Array> {
  const out = await s.run({
    sample: floatFeed(s, 'sample', f.sample, f.sampleDims),
    timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(f.timestep)), [1]),
    encoder_hidden_states: floatFeed(s, 'encoder_hidden_states', f.context, f.contextDims),
  });
  return toFloat32(out.out_sample);
}

/** Runs a single-input graph (the VAE halves), feeding the declared float type. */
export async function runSingle(
  s: ort.InferenceSession,
  input: string,
  values: Float32Array,
  dims: number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const out = await s.run({ [input]: floatFeed(s, input, values, dims) });
  const t = out[s.outputNames[0]];
  return { data: toFloat32(t), dims: t.dims };
}

/** A complete tiny GenDR-preset SD pack (TINY_UNET + TINY_VAE, seeded random weights). */
export function writeTinySdPack(
  out: string,
  o: Partial<Omit<SdPackOptions, 'unet' | 'vae' | 'out'>> & { seed?: number } = {},
): PackManifest {
  const seed = o.seed ?? 1;
  return writeSdPack({
    precision: 'fp32',
    preset: 'gendr',
    embedding: { randomSeed: seed + 100 },
    ...o,
    unet: { weights: { random: true, seed }, config: parseUnetConfig(TINY_UNET) },
    vae: { weights: { random: true, seed: seed + 1 }, config: parseVaeConfig(TINY_VAE) },
    out,
  });
}
