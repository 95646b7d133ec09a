/**
 * Which ONNX file of a built-in model runs: the fp32 `file` always on WASM and on WebGPU without
 * shader-f16; the fp16 variant (manifest.variants.fp16, shipped only for models whose fp16
 * output stays within 45 dB PSNR of fp32, docs/real-esrgan.md) on a WebGPU adapter with
 * shader-f16, unless the user keeps the exact fp32 model.
 */
import type { BuiltinModelManifest } from './builtin-manifest.ts';

export type ModelPrecision = 'fp32' | 'fp16';
/** The user's setting: 'auto' takes fp16 where the GPU computes it; 'fp32' always the exact model. */
export type GpuPrecision = 'auto' | 'fp32';

export interface BuiltinModelFile {
  precision: ModelPrecision;
  /** Relative to the model's manifest. */
  file: string;
  bytes: number;
  sha256: string;
}

export function chooseBuiltinFile(
  manifest: Pick<BuiltinModelManifest, 'file' | 'bytes' | 'sha256' | 'variants'>,
  backend: string,
  caps: { shaderF16: boolean },
  preference: GpuPrecision = 'auto',
): BuiltinModelFile {
  const fp16 = manifest.variants?.fp16;
  if (fp16 && backend === 'webgpu' && caps.shaderF16 && preference === 'auto') {
    return { precision: 'fp16', ...fp16 };
  }
  return { precision: 'fp32', file: manifest.file, bytes: manifest.bytes, sha256: manifest.sha256 };
}
