/**
 * The pack manifest's `unet` section, written the same way by every builder: the preset's step
 * coefficients, the embedding file's description, and the latent size multiple the UNet needs.
 */
import type { PackManifestInput } from '../../engine/latent/manifest.ts';
import type { LatentPreset } from '../../engine/latent/presets.ts';

export type UnetSection = NonNullable<PackManifestInput['unet']>;
export type UnetEmbeddings = UnetSection['embeddings'];

/**
 * The multiple latent sizes must be for a UNet that halves its latent `downsamples` times (and
 * doubles it back): 2^downsamples. An SD UNet has one downsampling between each pair of its
 * `block_out_channels`, so four blocks give 8.
 */
export function unetSizeMultiple(downsamples: number): number {
  if (!Number.isInteger(downsamples) || downsamples < 0) {
    throw new Error(`a UNet's downsampling count must be a whole number, not ${downsamples}`);
  }
  return 2 ** downsamples;
}

/** Downsamplings of an SD 1.x / 2.x UNet (four blocks). */
export const SD_UNET_DOWNSAMPLES = 3;

/** Downsamplings of a diffusers UNet with these `block_out_channels`. */
export function unetDownsamples(config: { blockOutChannels: readonly number[] }): number {
  return Math.max(0, config.blockOutChannels.length - 1);
}

export function unetManifestSection(
  preset: Pick<LatentPreset, 'timestep' | 'alpha' | 'sigma' | 'prediction'>,
  embeddings: UnetEmbeddings,
  downsamples: number,
): UnetSection {
  return {
    timestep: preset.timestep,
    alpha: preset.alpha,
    sigma: preset.sigma,
    prediction: preset.prediction,
    sizeMultiple: unetSizeMultiple(downsamples),
    embeddings,
  };
}
