/**
 * The device limits a pack run picks its tile sizes from (runPack's `limits`, see
 * engine/latent/tiling-plan.ts; a manifest's own tiling still wins over them):
 *  - WebGPU: the largest buffer the device can bind, min(maxStorageBufferBindingSize,
 *    maxBufferSize), as the worker's GPU buffer limit (faults/memory.ts) reads it;
 *  - WASM: a share of the memory available, capped well under the 32-bit heap (4 GiB, which
 *    also holds the weights and every other live tensor), so no single tensor nears 1 GB.
 */
import type { DeviceLimits } from '../../../engine/latent/tiling-plan.ts';
import type { OrtWebBackend } from '../../runtime/ort-web.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Largest tensor planned on WASM, whatever the device has. */
export const WASM_MAX_TENSOR_BYTES = 512 * MiB;
/** Smallest budget planned for (tiles get tiny, but the run still fits). */
export const MIN_TENSOR_BYTES = 32 * MiB;
/** navigator.deviceMemory where the browser does not tell (Chromium caps it at 8). */
const ASSUMED_DEVICE_MEMORY_GIB = 4;
/** Share of the device's memory one tensor may take on WASM. */
const WASM_MEMORY_SHARE = 1 / 8;

export interface GpuBufferLimits {
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

export interface PackLimitsInput {
  backend: OrtWebBackend;
  /** The WebGPU device's (or adapter's) limits; ignored on WASM. */
  gpu?: GpuBufferLimits | null;
  /** navigator.deviceMemory in GiB, when known. */
  deviceMemoryGiB?: number | null;
}

function positive(n: number | undefined | null): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/** Device limits for runPack, or undefined when they cannot be told (its defaults then apply). */
export function packDeviceLimits(input: PackLimitsInput): DeviceLimits | undefined {
  if (input.backend === 'webgpu') {
    const sizes = [input.gpu?.maxStorageBufferBindingSize, input.gpu?.maxBufferSize].filter(
      positive,
    );
    if (sizes.length === 0) return undefined;
    return { maxBufferBytes: Math.max(MIN_TENSOR_BYTES, Math.min(...sizes)) };
  }
  const memory = positive(input.deviceMemoryGiB)
    ? input.deviceMemoryGiB
    : ASSUMED_DEVICE_MEMORY_GIB;
  const share = memory * GiB * WASM_MEMORY_SHARE;
  return {
    maxBufferBytes: Math.round(Math.min(WASM_MAX_TENSOR_BYTES, Math.max(MIN_TENSOR_BYTES, share))),
  };
}
