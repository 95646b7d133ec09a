/**
 * diffusers `AutoencoderKL` configuration (the VAE's `config.json`), read with diffusers' defaults.
 * Options the builder does not implement are rejected by name.
 */
import { ConfigError } from '../sd-unet/config.ts';

export interface VaeConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  latentChannels: number;
  normNumGroups: number;
  scalingFactor: number;
  shiftFactor: number;
  useQuantConv: boolean;
  usePostQuantConv: boolean;
  midBlockAddAttention: boolean;
  sampleSize?: number;
}

const UNSUPPORTED: Record<string, unknown> = {
  act_fn: 'silu',
  latents_mean: null,
  latents_std: null,
};

export function parseVaeConfig(json: unknown, where = 'vae config'): VaeConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`${where}: not a JSON object`);
  }
  const c = json as Record<string, unknown>;
  if (c._class_name !== undefined && c._class_name !== 'AutoencoderKL') {
    throw new ConfigError(
      `${where}: _class_name is ${String(c._class_name)}, expected AutoencoderKL`,
    );
  }
  const bad = Object.entries(UNSUPPORTED)
    .filter(([k, d]) => c[k] !== undefined && JSON.stringify(c[k]) !== JSON.stringify(d))
    .map(([k, d]) => `${k} = ${JSON.stringify(c[k])} (only ${JSON.stringify(d)} is supported)`);
  if (bad.length) throw new ConfigError(`${where}: unsupported options: ${bad.join('; ')}`);

  const int = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) {
      throw new ConfigError(
        `${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`,
      );
    }
    return v as number;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') throw new ConfigError(`${where}: ${key} must be true or false`);
    return v;
  };
  const blockOutChannels = (c.block_out_channels ?? [64]) as number[];
  if (
    !Array.isArray(blockOutChannels) ||
    blockOutChannels.length < 1 ||
    !blockOutChannels.every((v) => Number.isInteger(v) && v > 0)
  ) {
    throw new ConfigError(`${where}: block_out_channels must be a list of positive integers`);
  }
  const n = blockOutChannels.length;
  for (const [key, type] of [
    ['down_block_types', 'DownEncoderBlock2D'],
    ['up_block_types', 'UpDecoderBlock2D'],
  ] as const) {
    const types = c[key] ?? Array(n).fill(type);
    if (!Array.isArray(types) || types.length !== n || types.some((t) => t !== type)) {
      throw new ConfigError(
        `${where}: ${key} must be ${n} × ${type}, got ${JSON.stringify(types)}`,
      );
    }
  }
  const normNumGroups = int('norm_num_groups', 32);
  for (const [i, ch] of blockOutChannels.entries()) {
    if (ch % normNumGroups !== 0) {
      throw new ConfigError(
        `${where}: block_out_channels[${i}] = ${ch} is not a multiple of norm_num_groups ${normNumGroups}`,
      );
    }
  }
  const scaling = c.scaling_factor ?? 0.18215;
  const shift = c.shift_factor ?? 0;
  if (typeof scaling !== 'number' || !(scaling > 0)) {
    throw new ConfigError(`${where}: scaling_factor must be a positive number`);
  }
  if (typeof shift !== 'number' || !Number.isFinite(shift)) {
    throw new ConfigError(`${where}: shift_factor must be a number`);
  }
  return {
    inChannels: int('in_channels', 3),
    outChannels: int('out_channels', 3),
    blockOutChannels,
    layersPerBlock: int('layers_per_block', 1),
    latentChannels: int('latent_channels', 4),
    normNumGroups,
    scalingFactor: scaling,
    shiftFactor: shift,
    useQuantConv: flag('use_quant_conv', true),
    usePostQuantConv: flag('use_post_quant_conv', true),
    midBlockAddAttention: flag('mid_block_add_attention', true),
    sampleSize: typeof c.sample_size === 'number' ? c.sample_size : undefined,
  };
}
