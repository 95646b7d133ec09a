/**
 * Loads one onnxruntime-web build per backend, configured to fetch its .mjs/.wasm files from
 * this app (public/ort/, copied there from node_modules by vite.config.ts), never from a CDN.
 *
 * - WASM: `onnxruntime-web/wasm`, the smallest build (ort-wasm-simd-threaded.wasm).
 * - WebGPU: `onnxruntime-web/webgpu`, ORT's native WebGPU EP (ort-wasm-simd-threaded.asyncify.wasm).
 *   Not the default `onnxruntime-web` import: its JSEP WebGPU path returns wrong numbers without
 *   an exception on some models (see docs/runtime-notes.md).
 */
import type { OrtWebBackend, OrtWebModule } from '../runtime/ort-web.ts';
import type { LosableDevice } from './faults/device-loss.ts';

const modules = new Map<OrtWebBackend, Promise<OrtWebModule>>();

/** Absolute URL of the folder holding ORT's .mjs/.wasm files. */
export function ortAssetsUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}ort/`, self.location.href).href;
}

/** WASM threads: every core when the context is cross-origin isolated, else ORT can only use one. */
export function wasmThreadCount(): number {
  if (!self.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
}

export function loadOrt(backend: OrtWebBackend): Promise<OrtWebModule> {
  let module = modules.get(backend);
  if (!module) {
    module = (
      backend === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm')
    ).then((ort) => {
      ort.env.wasm.wasmPaths = ortAssetsUrl();
      ort.env.wasm.numThreads = wasmThreadCount();
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      return ort;
    });
    module.catch(() => modules.delete(backend));
    modules.set(backend, module);
  }
  return module;
}

/** Threads the loaded WASM runtime really uses (ORT drops to 1 without SharedArrayBuffer). */
export async function threadsInUse(backend: OrtWebBackend): Promise<number> {
  const ort = await loadOrt(backend);
  return ort.env.wasm.numThreads ?? 1;
}

/** WASM threads a restore on `backend` uses (1 on WebGPU, which needs none). */
export async function threadsFor(backend: OrtWebBackend): Promise<number> {
  return backend === 'wasm' ? threadsInUse('wasm') : 1;
}

/** The WebGPU device onnxruntime-web runs on (null on WASM), for the device-loss watch. */
export async function ortDevice(
  ort: OrtWebModule,
  backend: OrtWebBackend,
): Promise<LosableDevice | null> {
  if (backend !== 'webgpu') return null;
  return ((await ort.env.webgpu.device) as unknown as LosableDevice | undefined) ?? null;
}
