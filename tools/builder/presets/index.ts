/**
 * diffusers configs that ship with the builder, so `--preset` can stand in for `--config`:
 * - sd21: Stable Diffusion 2.1 (base) UNet and its 4-channel VAE (OSEDiff's architecture);
 * - gendr: the SD 2.1 UNet with 16 input and output channels and the 16-channel
 *   ostris/vae-kl-f8-d16 VAE (GenDR's architecture).
 * Each names the latent preset (step coefficients, embedding shape) a pack of it uses.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LatentPresetName } from '../../../engine/latent/presets.ts';
import { parseUnetConfig, type UnetConfig } from '../architectures/sd-unet/config.ts';
import { parseVaeConfig, type VaeConfig } from '../architectures/sd-vae/config.ts';

export const MODEL_PRESETS = {
  sd21: { unet: 'sd21-unet.json', vae: 'sd21-vae.json', latent: 'osediff' },
  gendr: { unet: 'gendr-unet.json', vae: 'gendr-vae.json', latent: 'gendr' },
} as const satisfies Record<string, { unet: string; vae: string; latent: LatentPresetName }>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

export function isModelPreset(name: string): name is ModelPresetName {
  return Object.hasOwn(MODEL_PRESETS, name);
}

/** The model preset whose latent preset is `latent` (gendr → gendr, osediff → sd21). */
export function modelPresetForLatent(latent: LatentPresetName): ModelPresetName {
  return latent === 'gendr' ? 'gendr' : 'sd21';
}

function presetFile(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

export function presetConfigPath(preset: ModelPresetName, part: 'unet' | 'vae'): string {
  return presetFile(MODEL_PRESETS[preset][part]);
}

export function presetUnetConfig(preset: ModelPresetName): UnetConfig {
  const file = presetConfigPath(preset, 'unet');
  return parseUnetConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

export function presetVaeConfig(preset: ModelPresetName): VaeConfig {
  const file = presetConfigPath(preset, 'vae');
  return parseVaeConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}
