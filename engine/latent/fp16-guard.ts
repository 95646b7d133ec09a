/**
 * fp16 packs on WebGPU need the adapter's `shader-f16` feature. Without it onnxruntime-web's JSEP
 * build returns garbage silently (docs/runtime-notes.md), so such a pack never gets a
 * WebGPU session: it runs on WASM (onnxruntime's CPU kernels take fp16 graphs, casting where they
 * have no fp16 kernel) or is refused with a message that says why.
 */

/** The part of a GPUAdapter the guard reads. */
export interface AdapterFeaturesLike {
  readonly features?: { has(name: string): boolean };
}

export type PackPrecision = 'fp32' | 'fp16';
export type PackBackend = 'webgpu' | 'wasm' | 'cpu';

export class PackBackendError extends Error {
  override name = 'PackBackendError';
}

export function adapterHasShaderF16(adapter: AdapterFeaturesLike | null | undefined): boolean {
  return adapter?.features?.has('shader-f16') === true;
}

export interface BackendChoice {
  backend: PackBackend;
  /** Shown to the user when the backend differs from the one asked for. */
  notice: string | null;
}

export const F16_REFUSAL =
  'This model pack uses fp16 and this GPU adapter lacks WebGPU shader-f16, so it cannot run on WebGPU here';

/** The backend a pack of this precision may use, given the one asked for. */
export function choosePackBackend(
  precision: PackPrecision,
  requested: PackBackend,
  caps: { shaderF16: boolean; allowWasmFallback?: boolean },
): BackendChoice {
  if (precision === 'fp32' || requested !== 'webgpu' || caps.shaderF16) {
    return { backend: requested, notice: null };
  }
  if (caps.allowWasmFallback === false) {
    throw new PackBackendError(`${F16_REFUSAL}; use WASM or an fp32 pack.`);
  }
  return { backend: 'wasm', notice: `${F16_REFUSAL}: running it on WASM (CPU) instead.` };
}

/** Last line of defence before a session is created: never an fp16 pack on WebGPU without f16. */
export function assertPackBackend(
  precision: PackPrecision,
  backend: string,
  shaderF16: boolean | undefined,
): void {
  if (precision === 'fp16' && backend === 'webgpu' && shaderF16 !== true) {
    throw new PackBackendError(`${F16_REFUSAL}.`);
  }
}
