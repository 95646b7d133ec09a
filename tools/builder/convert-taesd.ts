/** `convert taesd`: TAESD-family encoder/decoder .safetensors → a VAE pack folder. */
import path from 'node:path';
import type { PackManifest } from '../../engine/latent/manifest.ts';
import { writePack } from './pack-dir.ts';
import { taesdPack } from './packs.ts';
import { readSafetensorsFile } from './safetensors-file.ts';
import { WeightStore, type Precision } from './weights.ts';

export interface ConvertTaesdOptions {
  encoder: string;
  decoder: string;
  out: string;
  precision?: Precision;
  id?: string;
  name?: string;
  scale?: number;
  scalingFactor?: number;
  shiftFactor?: number;
  /** Prefix of the tensor names inside the files (e.g. 'encoder.'), default none. */
  prefix?: string;
}

export async function convertTaesd(o: ConvertTaesdOptions): Promise<PackManifest> {
  const encoder = new WeightStore(await readSafetensorsFile(o.encoder), o.encoder, o.prefix);
  const decoder = new WeightStore(await readSafetensorsFile(o.decoder), o.decoder, o.prefix);
  const stem = path.basename(o.encoder).replace(/(_encoder)?\.safetensors$/, '');
  const id = o.id ?? (stem.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'taesd');
  const pack = taesdPack(
    { encoder, decoder },
    {
      id,
      name: o.name ?? `${stem.toUpperCase()} (TAESD family)`,
      description: 'Tiny autoencoder: bicubic upscale, encode, decode (no UNet).',
      precision: o.precision ?? 'fp32',
      scale: o.scale,
      scalingFactor: o.scalingFactor,
      shiftFactor: o.shiftFactor,
    },
  );
  return writePack(o.out, pack);
}
