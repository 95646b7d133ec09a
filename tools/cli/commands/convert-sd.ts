/**
 * `gendr-web convert sd-unet` and `convert sd-vae`: diffusers UNet2DConditionModel / AutoencoderKL
 * safetensors (single file or sharded) → pack graphs, streaming. Listed in convert.ts's CONVERTERS.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  PACK_BACKENDS,
  type PackManifest,
  type PackRuntimeBackend,
} from '../../../engine/latent/manifest.ts';
import { LATENT_PRESETS, type LatentPresetName } from '../../../engine/latent/presets.ts';
import type { UnetConfig } from '../../builder/architectures/sd-unet/config.ts';
import type { VaeConfig } from '../../builder/architectures/sd-vae/config.ts';
import {
  isModelPreset,
  MODEL_PRESETS,
  presetUnetConfig,
  presetVaeConfig,
  type ModelPresetName,
} from '../../builder/presets/index.ts';
import {
  addUnetToPack,
  loadUnetConfig,
  loadVaeConfig,
  writeSdVaePack,
  type ComponentOptions,
  type PackForm,
  type WeightsInput,
} from '../../builder/sd-pack.ts';
import { choiceOption, intOption, parseCommandArgs, required } from '../args.ts';
import { withAtomicOutput } from '../atomic-output.ts';
import { UsageError } from '../usage-error.ts';

/** Options every SD conversion takes. */
export const SD_COMMON_OPTIONS = {
  out: { type: 'string' },
  dtype: { type: 'string' },
  precision: { type: 'string' },
  form: { type: 'string' },
  random: { type: 'boolean' },
  seed: { type: 'string' },
  'external-data': { type: 'string' },
  'io-dtype': { type: 'string' },
  'fused-backends': { type: 'string' },
} as const;

/**
 * --dtype (or --precision) fp16|fp32, --io-dtype fp32|fp16, --form plain|fused|both,
 * --external-data auto|always|never. `form` stays undefined unless given.
 */
export function componentOptions(values: {
  dtype?: string;
  precision?: string;
  form?: string;
  'external-data'?: string;
  'io-dtype'?: string;
  'fused-backends'?: string;
}): Omit<ComponentOptions, 'form' | 'folder'> & {
  form?: PackForm;
  fusedBackends?: PackRuntimeBackend[];
} {
  const dtype = choiceOption('dtype', values.dtype ?? values.precision, ['fp16', 'fp32']) ?? 'fp32';
  const io = choiceOption('io-dtype', values['io-dtype'], ['fp32', 'fp16']) ?? 'fp32';
  if (io === 'fp16' && dtype === 'fp32')
    throw new UsageError('--io-dtype fp16 needs --dtype fp16 (fp32 graphs take and return fp32)');
  const form = choiceOption('form', values.form, ['plain', 'fused', 'both']);
  const ext =
    choiceOption('external-data', values['external-data'], ['auto', 'always', 'never']) ?? 'auto';
  let fusedBackends: PackRuntimeBackend[] | undefined;
  if (values['fused-backends'] !== undefined) {
    if (form !== 'both') throw new UsageError('--fused-backends goes with --form both');
    fusedBackends = values['fused-backends']
      .split(',')
      .map((b) => b.trim()) as PackRuntimeBackend[];
    const bad = fusedBackends.filter((b) => !(PACK_BACKENDS as readonly string[]).includes(b));
    if (bad.length || fusedBackends.length === 0) {
      throw new UsageError(
        `--fused-backends takes a comma-separated list of ${PACK_BACKENDS.join(', ')}; got '${values['fused-backends']}'`,
      );
    }
  }
  return { precision: dtype, ioPrecision: io, form, externalData: ext, fusedBackends };
}

/** --weights or --random [--seed N]. */
export function weightsInput(
  weights: string | undefined,
  random: boolean | undefined,
  seed: string | undefined,
  flag = 'weights',
): WeightsInput {
  if (random) {
    if (weights) throw new UsageError(`--${flag} and --random exclude each other`);
    return { random: true, seed: intOption('seed', seed, 0, 2 ** 32 - 1) ?? 1 };
  }
  if (!weights)
    throw new UsageError(`--${flag} <file|dir> is required (or --random for random weights)`);
  if (!fs.existsSync(weights)) throw new UsageError(`--${flag}: ${weights} does not exist`);
  return { path: weights };
}

/** The config: --config, else config.json beside/in the weights, else the preset's. */
export function configFile(config: string | undefined, weights: WeightsInput): string | undefined {
  if (config) return config;
  if ('path' in weights) {
    const dir = fs.statSync(weights.path).isDirectory() ? weights.path : path.dirname(weights.path);
    const beside = path.join(dir, 'config.json');
    if (fs.existsSync(beside)) return beside;
  }
  return undefined;
}

export function modelPreset(name: string | undefined): ModelPresetName | undefined {
  if (name === undefined) return undefined;
  if (!isModelPreset(name)) {
    throw new UsageError(
      `--preset must be ${Object.keys(MODEL_PRESETS).join(' or ')}, got '${name}'`,
    );
  }
  return name;
}

export function resolveUnetConfig(
  file: string | undefined,
  preset: ModelPresetName | undefined,
  flag = 'config',
): UnetConfig {
  if (file) return loadUnetConfig(file);
  if (preset) return presetUnetConfig(preset);
  throw new UsageError(
    `--${flag} <config.json> is required (or --preset ${Object.keys(MODEL_PRESETS).join('|')})`,
  );
}

export function resolveVaeConfig(
  file: string | undefined,
  preset: ModelPresetName | undefined,
  flag = 'config',
): VaeConfig {
  if (file) return loadVaeConfig(file);
  if (preset) return presetVaeConfig(preset);
  throw new UsageError(
    `--${flag} <config.json> is required (or --preset ${Object.keys(MODEL_PRESETS).join('|')})`,
  );
}

interface Converter {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<PackManifest>;
}

export const sdUnetConverter: Converter = {
  name: 'sd-unet',
  summary: 'diffusers UNet2DConditionModel (SD 2.1, GenDR) → the UNet of a pack',
  usage: `gendr-web convert sd-unet --weights <file|dir> [--config <config.json>] --out <pack dir>
      [--dtype fp32|fp16] [--io-dtype fp32|fp16] [--preset sd21|gendr] [--embedding <file.safetensors>]
      [--random [--seed N]] [--external-data auto|always|never] [--form plain|fused|both]
      --out must hold a pack (e.g. from convert sd-vae); the UNet, its embedding and the step
      coefficients of the preset's latent model (sd21: OSEDiff, gendr: GenDR) are added to it,
      in the pack's graph form(s).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SD_COMMON_OPTIONS,
      weights: { type: 'string' },
      config: { type: 'string' },
      preset: { type: 'string' },
      embedding: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const weights = weightsInput(values.weights, values.random, values.seed);
    const preset = modelPreset(values.preset);
    const config = resolveUnetConfig(configFile(values.config, weights), preset);
    const out = required('out', values.out);
    const latent: LatentPresetName | undefined = preset ? MODEL_PRESETS[preset].latent : undefined;
    return withAtomicOutput(out, (dir) =>
      addUnetToPack(dir, weights, config, {
        ...componentOptions(values),
        preset: latent,
        embedding: {
          file: values.embedding,
          randomSeed: 'random' in weights ? weights.seed + 100 : undefined,
        },
      }),
    );
  },
};

export const sdVaeConverter: Converter = {
  name: 'sd-vae',
  summary: 'diffusers AutoencoderKL (SD VAE, ostris 16-channel VAE) → a VAE pack',
  usage: `gendr-web convert sd-vae --weights <file|dir> [--config <config.json>] --out <pack dir>
      [--dtype fp32|fp16] [--io-dtype fp32|fp16] [--form plain|fused|both [--fused-backends cpu,webgpu]]
      [--preset sd21|gendr] [--scale 4] [--id <id>] [--name <name>] [--random [--seed N]]
      [--external-data auto|always|never]`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SD_COMMON_OPTIONS,
      weights: { type: 'string' },
      config: { type: 'string' },
      preset: { type: 'string' },
      scale: { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const weights = weightsInput(values.weights, values.random, values.seed);
    const config = resolveVaeConfig(configFile(values.config, weights), modelPreset(values.preset));
    const options = {
      ...componentOptions(values),
      scale: intOption('scale', values.scale, 1, 16),
      id: values.id,
      name: values.name,
    };
    return withAtomicOutput(required('out', values.out), (dir) =>
      writeSdVaePack(weights, config, dir, options),
    );
  },
};

/** The latent preset names, for help texts. */
export const LATENT_PRESET_NAMES = Object.keys(LATENT_PRESETS).join('|');
