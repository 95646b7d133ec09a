/**
 * How much memory a pack needs on a backend before anything is loaded: the weights as the runtime
 * will hold them plus the largest activation of the tiles the run will use, and, over WASM's 4 GiB
 * heap, a plain-words refusal naming what would run it.
 */
import { packFilePaths, selectPackGraphs, type PackManifest } from './manifest.ts';
import type { LatentTiling } from './tiling-plan.ts';

/** WebAssembly's 32-bit heap. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** Bytes per pixel of each stage's largest activation when the pack states none (fp32; as tiling-plan.ts). */
const DEFAULTS = {
  encoderBytesPerPixel: 1024,
  decoderBytesPerLatentPixel: 64 * 1024,
  unetBytesPerTokenPair: 20,
  unetBytesPerLatentPixel: 4096,
};

export interface MemoryEstimate {
  /** Weights as the runtime holds them (fp16 weights count twice on WASM/CPU, which upcast). */
  weightsBytes: number;
  /** The largest single activation of the chosen tiles, over the three stages. */
  activationBytes: number;
  totalBytes: number;
  /** Plain-words refusal when the pack cannot run on this backend; absent when it fits. */
  refusal?: string;
}

function gb(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}

/** Pure: depends on the manifest's file sizes, the backend and the tiles only. */
export function estimatePackMemory(
  m: PackManifest,
  backend: 'webgpu' | 'wasm' | 'cpu',
  tiling: LatentTiling,
): MemoryEstimate {
  const paths = packFilePaths(m, selectPackGraphs(m, backend));
  // Graphs, their external data and the embeddings: everything one load reads is held.
  const fileBytes = paths.reduce((sum, p) => sum + (m.files[p]?.bytes ?? 0), 0);
  const upcast = m.precision === 'fp16' && backend !== 'webgpu' ? 2 : 1;
  const weightsBytes = fileBytes * upcast;

  const half = m.precision === 'fp16' && backend === 'webgpu' ? 0.5 : 1;
  const mem = { ...DEFAULTS, ...m.memory };
  const enc = tiling.encoder.tile ** 2 * mem.encoderBytesPerPixel;
  const dec = tiling.decoder.tile ** 2 * mem.decoderBytesPerLatentPixel;
  const t = tiling.unet.tile;
  const unet = m.unet
    ? Math.max(t ** 4 * mem.unetBytesPerTokenPair, t * t * mem.unetBytesPerLatentPixel)
    : 0;
  const activationBytes = Math.max(enc, dec, unet) * half;
  const totalBytes = weightsBytes + activationBytes;
  const refusal =
    backend === 'wasm' && totalBytes > WASM_HEAP_BYTES
      ? `${m.name} needs about ${gb(totalBytes)} GB of memory on the CPU engine (WebAssembly), more than the 4 GB it can use. ` +
        `It runs with WebGPU on a graphics card whose WebGPU has shader-f16 (recent Chrome or Edge on most desktop GPUs).`
      : undefined;
  return { weightsBytes, activationBytes, totalBytes, refusal };
}
