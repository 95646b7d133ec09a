/**
 * The built-in models that ship an fp16 variant (<id>/model-fp16.onnx beside model.onnx, in the
 * manifest's `variants.fp16`), run only on WebGPU adapters with shader-f16
 * (engine/models/builtin-precision.ts). A model is listed only when its fp16 output stayed at or
 * above 45 dB PSNR of fp32 on the shared photos in every measurement that applies to it
 * (bench/real-esrgan-fp16.ts; the figures are in bench/experiments.md).
 */
import { createHash } from 'node:crypto';
import type { BuiltinModelVariant } from '../../engine/models/builtin-manifest.ts';
import { toFp16 } from '../onnx/to-fp16.ts';

export const FP16_FILE = 'model-fp16.onnx';

/** Ids with an fp16 variant, and the measurement each relies on. */
export const FP16_VARIANT_IDS: ReadonlyMap<string, string> = new Map([
  [
    'realesr-general-x4v3',
    'f16 accumulation (JS reference, 32² crops) 54.5-55.8 dB; fp16 storage 62.3-63.3 dB (128²)',
  ],
  [
    'realesrgan-x4plus',
    'fp16 storage 57.9-61.1 dB (64² crops); f16 accumulation estimated on 16² crops only: 48.5-50.1 dB',
  ],
]);

/** The fp16 variant of model `id` converted from its fp32 ONNX `bytes`, or null for none. */
export function fp16Variant(
  id: string,
  bytes: Uint8Array,
): { variant: BuiltinModelVariant; bytes: Uint8Array } | null {
  if (!FP16_VARIANT_IDS.has(id)) return null;
  const half = toFp16(bytes).bytes;
  return {
    variant: {
      file: FP16_FILE,
      bytes: half.length,
      sha256: createHash('sha256').update(half).digest('hex'),
    },
    bytes: half,
  };
}
