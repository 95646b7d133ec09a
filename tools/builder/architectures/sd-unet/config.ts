/**
 * diffusers `UNet2DConditionModel` configuration (the `config.json` next to the weights), reduced to
 * what the SD 1.x / 2.x family uses. Keys are read with diffusers' defaults; options this builder
 * does not implement (class embeddings, dual cross-attention, ...) are rejected by name rather than
 * silently ignored.
 */

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

export interface UnetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  /** Resnets per down block (up blocks have one more). */
  layersPerBlock: number[];
  /** BasicTransformerBlocks per Transformer2DModel, per down block. */
  transformerLayersPerBlock: number[];
  /**
   * Attention heads per down block. diffusers reads these from `attention_head_dim` (a historical
   * misnomer: for SD it is the head count; the head size is channels / heads).
   */
  heads: number[];
  crossAttentionDim: number[];
  useLinearProjection: boolean;
  normNumGroups: number;
  normEps: number;
  flipSinToCos: boolean;
  freqShift: number;
  upcastAttention: boolean;
  midBlockScaleFactor: number;
  downsamplePadding: number;
  convInKernel: number;
  convOutKernel: number;
  sampleSize?: number;
}

type Json = Record<string, unknown>;

/** Options that must keep diffusers' default because the builder does not implement them. */
const UNSUPPORTED: Record<string, unknown> = {
  center_input_sample: false,
  class_embed_type: null,
  num_class_embeds: null,
  addition_embed_type: null,
  addition_time_embed_dim: null,
  projection_class_embeddings_input_dim: null,
  class_embeddings_concat: false,
  encoder_hid_dim: null,
  encoder_hid_dim_type: null,
  time_embedding_type: 'positional',
  time_embedding_dim: null,
  time_embedding_act_fn: null,
  timestep_post_act: null,
  time_cond_proj_dim: null,
  resnet_time_scale_shift: 'default',
  resnet_skip_time_act: false,
  resnet_out_scale_factor: 1,
  act_fn: 'silu',
  dual_cross_attention: false,
  only_cross_attention: false,
  mid_block_only_cross_attention: null,
  attention_type: 'default',
  cross_attention_norm: null,
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  num_attention_heads: null,
  reverse_transformer_layers_per_block: null,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function perBlock(where: string, key: string, value: unknown, n: number): number[] {
  const list = Array.isArray(value) ? value : Array.from({ length: n }, () => value);
  if (list.length !== n || !list.every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw new ConfigError(
      `${where}: ${key} must be a positive integer or a list of ${n}, got ${JSON.stringify(value)}`,
    );
  }
  return list as number[];
}

function num(where: string, c: Json, key: string, fallback: number, integer = false): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new ConfigError(
      `${where}: ${key} must be a${integer ? 'n integer' : ' number'}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function bool(where: string, c: Json, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${where}: ${key} must be true or false`);
  return v;
}

function sameDefault(a: unknown, b: unknown): boolean {
  if (a === undefined) return true;
  if (typeof b === 'number') return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Reads a diffusers UNet2DConditionModel config.json object. */
export function parseUnetConfig(json: unknown, where = 'unet config'): UnetConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`${where}: not a JSON object`);
  }
  const c = json as Json;
  if (c._class_name !== undefined && c._class_name !== 'UNet2DConditionModel') {
    throw new ConfigError(
      `${where}: _class_name is ${String(c._class_name)}, expected UNet2DConditionModel`,
    );
  }
  const bad = Object.entries(UNSUPPORTED)
    .filter(([k, d]) => !sameDefault(c[k], d) && !(d === null && c[k] === null))
    .map(([k, d]) => `${k} = ${JSON.stringify(c[k])} (only ${JSON.stringify(d)} is supported)`);
  if (bad.length) throw new ConfigError(`${where}: unsupported options: ${bad.join('; ')}`);

  const blockOutChannels = (c.block_out_channels ?? [320, 640, 1280, 1280]) as number[];
  if (
    !Array.isArray(blockOutChannels) ||
    blockOutChannels.length < 1 ||
    !blockOutChannels.every((v) => Number.isInteger(v) && v > 0)
  ) {
    throw new ConfigError(`${where}: block_out_channels must be a list of positive integers`);
  }
  const n = blockOutChannels.length;
  const down = (c.down_block_types ?? [
    'CrossAttnDownBlock2D',
    'CrossAttnDownBlock2D',
    'CrossAttnDownBlock2D',
    'DownBlock2D',
  ]) as string[];
  const up = (c.up_block_types ?? [
    'UpBlock2D',
    'CrossAttnUpBlock2D',
    'CrossAttnUpBlock2D',
    'CrossAttnUpBlock2D',
  ]) as string[];
  if (!Array.isArray(down) || down.length !== n) {
    throw new ConfigError(
      `${where}: down_block_types must list ${n} blocks (one per block_out_channels)`,
    );
  }
  if (!Array.isArray(up) || up.length !== n) {
    throw new ConfigError(
      `${where}: up_block_types must list ${n} blocks (one per block_out_channels)`,
    );
  }
  for (const t of down) {
    if (t !== 'CrossAttnDownBlock2D' && t !== 'DownBlock2D') {
      throw new ConfigError(
        `${where}: down block type ${t} is not supported (CrossAttnDownBlock2D, DownBlock2D)`,
      );
    }
  }
  for (const t of up) {
    if (t !== 'CrossAttnUpBlock2D' && t !== 'UpBlock2D') {
      throw new ConfigError(
        `${where}: up block type ${t} is not supported (CrossAttnUpBlock2D, UpBlock2D)`,
      );
    }
  }
  const heads = perBlock(where, 'attention_head_dim', c.attention_head_dim ?? 8, n);
  const normNumGroups = num(where, c, 'norm_num_groups', 32, true);
  const cfg: UnetConfig = {
    inChannels: num(where, c, 'in_channels', 4, true),
    outChannels: num(where, c, 'out_channels', 4, true),
    blockOutChannels,
    downBlockTypes: down as DownBlockType[],
    upBlockTypes: up as UpBlockType[],
    layersPerBlock: perBlock(where, 'layers_per_block', c.layers_per_block ?? 2, n),
    transformerLayersPerBlock: perBlock(
      where,
      'transformer_layers_per_block',
      c.transformer_layers_per_block ?? 1,
      n,
    ),
    heads,
    crossAttentionDim: perBlock(where, 'cross_attention_dim', c.cross_attention_dim ?? 1280, n),
    useLinearProjection: bool(where, c, 'use_linear_projection', false),
    normNumGroups,
    normEps: num(where, c, 'norm_eps', 1e-5),
    flipSinToCos: bool(where, c, 'flip_sin_to_cos', true),
    freqShift: num(where, c, 'freq_shift', 0),
    upcastAttention: bool(where, c, 'upcast_attention', false),
    midBlockScaleFactor: num(where, c, 'mid_block_scale_factor', 1),
    downsamplePadding: num(where, c, 'downsample_padding', 1, true),
    convInKernel: num(where, c, 'conv_in_kernel', 3, true),
    convOutKernel: num(where, c, 'conv_out_kernel', 3, true),
    sampleSize: typeof c.sample_size === 'number' ? c.sample_size : undefined,
  };
  for (const [i, ch] of blockOutChannels.entries()) {
    if (ch % normNumGroups !== 0) {
      throw new ConfigError(
        `${where}: block_out_channels[${i}] = ${ch} is not a multiple of norm_num_groups ${normNumGroups}`,
      );
    }
    if (ch % heads[i] !== 0) {
      throw new ConfigError(
        `${where}: block_out_channels[${i}] = ${ch} is not a multiple of its ${heads[i]} heads`,
      );
    }
  }
  if (cfg.convInKernel % 2 === 0 || cfg.convOutKernel % 2 === 0) {
    throw new ConfigError(`${where}: conv_in_kernel and conv_out_kernel must be odd`);
  }
  return cfg;
}
