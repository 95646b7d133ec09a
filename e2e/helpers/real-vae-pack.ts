/**
 * The real-VAE pack of the latent pipeline issue (proof 2), built at test time: the TAEF2 encoder
 * and decoder from the shared folder converted to ONNX by our builder, plus the generated identity
 * UNet (ε = its input latent) with GenDR's step (t = 500, α = σ = 0.5), so the step is the
 * identity and the pack restores to the VAE's round trip of the bicubic upscale.
 *
 * Its manifest asks for small tiles, so that a 256² output tiles every stage and the decoder's
 * output arrives as several blocks; the app and the command line both read that tiling.
 */
import type { PackManifest } from '../../engine/latent/manifest.ts';
import { GENDR_PRESET } from '../../engine/latent/presets.ts';
import { writePack, type PackContent } from '../../tools/builder/pack-dir.ts';
import { taesdPack, withTestUnet } from '../../tools/builder/packs.ts';
import {
  hasTaef2,
  TAEF2_DECODER,
  TAEF2_ENCODER,
  taef2Weights,
} from '../../test/helpers/latent-packs.ts';
import { missingShared } from '../../test/helpers/shared.ts';

export const REAL_VAE_PACK_ID = 'taef2-identity';

/** Why the real-VAE pack cannot be built here, or null when the TAEF2 weights are there. */
export function realVaeMissing(): string | null {
  if (hasTaef2) return null;
  return `${missingShared(...TAEF2_ENCODER)} (and ${TAEF2_DECODER.join('/')})`;
}

/** Tiles in the manifest: encoder 128 px (overlap 32), UNet 16 latent px (8), decoder 16 (4). */
export const REAL_VAE_TILING = {
  encoder: { tile: 128, overlap: 32 },
  unet: { tile: 16, overlap: 8 },
  decoder: { tile: 16, overlap: 4 },
};

/** The pack in memory: TAEF2 (fp32) + identity UNet with GenDR's step, ×4. */
export async function realVaePack(): Promise<PackContent> {
  const vae = taesdPack(await taef2Weights(), {
    id: REAL_VAE_PACK_ID,
    name: 'TAEF2 + identity UNet',
    description: 'Real TAEF2 VAE with a generated identity UNet (GenDR step); for tests only.',
    precision: 'fp32',
    scale: 4,
    scalingFactor: GENDR_PRESET.scalingFactor,
  });
  const pack = withTestUnet(vae, { kind: 'identity', preset: GENDR_PRESET });
  return { ...pack, manifest: { ...pack.manifest, tiling: REAL_VAE_TILING } };
}

/** Builds the pack into `dir`; returns its manifest. */
export async function writeRealVaePack(dir: string): Promise<PackManifest> {
  return writePack(dir, await realVaePack());
}
