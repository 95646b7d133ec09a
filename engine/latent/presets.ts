/**
 * Step coefficients and manifest presets of the two published one-step latent SR models.
 * docs/model-packs.md explains where each number comes from.
 */

/** √ᾱ_t and √(1 − ᾱ_t) of Stable Diffusion's scaled-linear schedule (betas 0.00085 → 0.012, 1000 steps). */
export function scaledLinearCoefficients(
  t: number,
  betaStart = 0.00085,
  betaEnd = 0.012,
  steps = 1000,
): { alpha: number; sigma: number } {
  if (!Number.isInteger(t) || t < 0 || t >= steps)
    throw new Error(`timestep ${t} outside 0..${steps - 1}`);
  const a = Math.sqrt(betaStart);
  const b = Math.sqrt(betaEnd);
  let cumprod = 1;
  for (let i = 0; i <= t; i++) {
    const beta = (a + ((b - a) * i) / (steps - 1)) ** 2;
    cumprod *= 1 - beta;
  }
  return { alpha: Math.sqrt(cumprod), sigma: Math.sqrt(1 - cumprod) };
}

export interface LatentPreset {
  latentChannels: number;
  scalingFactor: number;
  shiftFactor: number;
  timestep: number;
  alpha: number;
  sigma: number;
  prediction: 'epsilon' | 'sample' | 'v_prediction';
  embeddingShape: [number, number, number];
  imageRange: [number, number];
  scale: number;
  resample: 'bicubic-pil' | 'bicubic-torch';
  tiling: { unet: { tile: number; overlap: number } };
}

/** GenDR: SD 2.1 UNet over the 16-channel ostris/vae-kl-f8-d16, t = 500, α = σ = 0.5. */
export const GENDR_PRESET: LatentPreset = {
  latentChannels: 16,
  scalingFactor: 0.24447420268654824,
  shiftFactor: 0,
  timestep: 500,
  alpha: 0.5,
  sigma: 0.5,
  prediction: 'epsilon',
  embeddingShape: [1, 77, 1024],
  imageRange: [-1, 1],
  scale: 4,
  resample: 'bicubic-pil',
  tiling: { unet: { tile: 96, overlap: 32 } },
};

const osediffStep = scaledLinearCoefficients(999);

/** OSEDiff: SD 2.1 (4-channel VAE, scaling 0.18215) at t = 999 of the scaled-linear schedule. */
export const OSEDIFF_PRESET: LatentPreset = {
  latentChannels: 4,
  scalingFactor: 0.18215,
  shiftFactor: 0,
  timestep: 999,
  alpha: osediffStep.alpha,
  sigma: osediffStep.sigma,
  prediction: 'epsilon',
  embeddingShape: [1, 77, 1024],
  imageRange: [-1, 1],
  scale: 4,
  resample: 'bicubic-pil',
  tiling: { unet: { tile: 96, overlap: 32 } },
};

export const LATENT_PRESETS = { gendr: GENDR_PRESET, osediff: OSEDIFF_PRESET } as const;
export type LatentPresetName = keyof typeof LATENT_PRESETS;
