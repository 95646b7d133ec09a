/**
 * Assembling packs from built graphs: a TAESD VAE pack, test UNets added to any pack, and the tiny
 * GenDR-shaped pack. The real SD 2.1 UNet / KL-VAE converters will add their graphs the same way.
 */
import { float32ToHalfArray } from '../../engine/latent/float16.ts';
import { PACK_FILES, type PackManifestInput } from '../../engine/latent/manifest.ts';
import { GENDR_PRESET, type LatentPreset } from '../../engine/latent/presets.ts';
import { encodeSafetensors } from '../../engine/latent/safetensors.ts';
import type { BuiltGraph, VaeBuild } from './architectures/types.ts';
import { buildTaesd } from './architectures/taesd.ts';
import { identityUnet, tinyUnet, type UnetInterface } from './generated/unets.ts';
import { SeededRandom } from './generated/random.ts';
import { tinyKlVae } from './generated/vaes.ts';
import type { PackContent } from './pack-dir.ts';
import { SD_UNET_DOWNSAMPLES, unetManifestSection } from './unet-manifest.ts';
import type { Precision, WeightStore } from './weights.ts';

export const EMBEDDINGS_FILE = 'prompt_embeds.safetensors';

function graphFiles(graphs: BuiltGraph[]): Record<string, Uint8Array> {
  const path = {
    vae_encoder: PACK_FILES.vaeEncoder,
    unet: PACK_FILES.unet,
    vae_decoder: PACK_FILES.vaeDecoder,
  };
  return Object.fromEntries(graphs.map((g) => [path[g.component], g.model]));
}

export interface VaePackOptions {
  id: string;
  name: string;
  description?: string;
  licence: string;
  source: PackManifestInput['source'];
  precision: Precision;
  scale?: number;
  resample?: 'bicubic-pil' | 'bicubic-torch';
  scalingFactor?: number;
  shiftFactor?: number;
}

/** A VAE-only pack (no UNet): runs bicubic ×scale → encode → decode. */
export function vaePack(vae: VaeBuild, o: VaePackOptions): PackContent {
  return {
    manifest: {
      format: 'gendr-pack',
      version: 1,
      id: o.id,
      name: o.name,
      description: o.description ?? '',
      licence: o.licence,
      source: o.source,
      precision: o.precision,
      input: { scale: o.scale ?? 4, resample: o.resample ?? 'bicubic-pil' },
      vae: {
        latentChannels: vae.facts.latentChannels,
        downscaleFactor: vae.facts.downscaleFactor,
        imageRange: vae.facts.imageRange,
        scalingFactor: o.scalingFactor ?? 1,
        shiftFactor: o.shiftFactor ?? 0,
        encoderOutput: vae.facts.encoderOutput,
      },
    },
    files: graphFiles(vae.graphs),
  };
}

export function taesdPack(
  weights: { encoder: WeightStore; decoder: WeightStore },
  o: Omit<VaePackOptions, 'licence' | 'source'> &
    Partial<Pick<VaePackOptions, 'licence' | 'source'>>,
): PackContent {
  const vae = buildTaesd(weights, { precision: o.precision });
  return vaePack(vae, {
    licence: 'MIT (madebyollin/taesd)',
    source: {
      url: 'https://github.com/madebyollin/taesd',
      notes: 'converted with gendr-web convert taesd',
    },
    ...o,
  });
}

export type TestUnetKind = 'identity' | 'tiny';

export interface TestUnetOptions {
  kind: TestUnetKind;
  /** Step coefficients, timestep and embedding shape (default GenDR's). */
  preset?: Pick<LatentPreset, 'timestep' | 'alpha' | 'sigma' | 'prediction' | 'embeddingShape'>;
  timestepType?: 'int64' | 'float32';
  timestepDims?: number[];
  seed?: number;
  /** Add a negative embedding with this guidance scale. */
  guidanceScale?: number;
}

/** Seeded N(0, 1) embedding(s) as a .safetensors file in the pack's precision. */
export function randomEmbeddings(
  shape: readonly [number, number, number],
  precision: Precision,
  seed: number,
  negative: boolean,
): Uint8Array {
  const rng = new SeededRandom(seed);
  const n = shape[0] * shape[1] * shape[2];
  const tensor = (name: string) => {
    const values = rng.normals(n, 1);
    return precision === 'fp16'
      ? { name, dtype: 'F16' as const, shape, data: float32ToHalfArray(values) }
      : { name, dtype: 'F32' as const, shape, data: values };
  };
  const tensors = [tensor('prompt_embeds')];
  if (negative) tensors.push(tensor('negative_prompt_embeds'));
  return encodeSafetensors(tensors, {
    generator: 'gendr-web builder',
    kind: 'random test embedding',
  });
}

/** Adds a generated UNet (and its embedding file and manifest section) to a pack. */
export function withTestUnet(pack: PackContent, o: TestUnetOptions): PackContent {
  const preset = o.preset ?? GENDR_PRESET;
  const io: UnetInterface = {
    latentChannels: pack.manifest.vae.latentChannels,
    embeddingShape: preset.embeddingShape,
    timestepType: o.timestepType ?? 'int64',
    timestepDims: o.timestepDims ?? [1],
    precision: pack.manifest.precision,
  };
  const unet = o.kind === 'identity' ? identityUnet(io) : tinyUnet(io, o.seed ?? 1);
  const negative = o.guidanceScale !== undefined;
  return {
    manifest: {
      ...pack.manifest,
      unet: unetManifestSection(
        preset,
        {
          file: EMBEDDINGS_FILE,
          positive: 'prompt_embeds',
          ...(negative
            ? { negative: 'negative_prompt_embeds', guidanceScale: o.guidanceScale }
            : {}),
          shape: [...preset.embeddingShape],
        },
        // The test UNets stand in for an SD UNet and get its multiple: 8 is a multiple of what
        // they need (1 and 2), and tiling sees the sizes a real pack gets.
        SD_UNET_DOWNSAMPLES,
      ),
    },
    // A previous UNet's files (and external-data listing) give way to the generated one.
    externalData: Object.fromEntries(
      Object.entries(pack.externalData ?? {}).filter(([p]) => p !== PACK_FILES.unet),
    ),
    files: {
      ...Object.fromEntries(Object.entries(pack.files).filter(([p]) => !p.startsWith('unet/'))),
      [PACK_FILES.unet]: unet.model,
      [EMBEDDINGS_FILE]: randomEmbeddings(
        preset.embeddingShape,
        pack.manifest.precision,
        (o.seed ?? 1) + 100,
        negative,
      ),
    },
  };
}

/** The tiny pack with GenDR's exact shapes: 16 latent channels, [1, 77, 1024] embedding, ×4. */
export function tinyGendrPack(
  o: { precision?: Precision; seed?: number; timestepType?: 'int64' | 'float32' } = {},
): PackContent {
  const precision = o.precision ?? 'fp32';
  const vae = tinyKlVae(GENDR_PRESET.latentChannels, precision, (o.seed ?? 1) + 6);
  const base = vaePack(vae, {
    id: `tiny-gendr-${precision}`,
    name: `Tiny GenDR-shaped test pack (${precision})`,
    description: 'Generated random weights with GenDR’s interface; for tests only.',
    licence: 'MIT (generated by gendr-web)',
    source: { notes: 'tools/builder/packs.ts tinyGendrPack' },
    precision,
    scalingFactor: GENDR_PRESET.scalingFactor,
  });
  return withTestUnet(base, { kind: 'tiny', seed: o.seed, timestepType: o.timestepType });
}
