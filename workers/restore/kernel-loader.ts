/**
 * The fast CPU engine for the built-in ESRGAN models: the hand-written WebAssembly SIMD kernels
 * (engine/kernels, Winograd F(6x6,3x3) / F(4x4,5x5) in fp32), ~3x faster than
 * onnxruntime-web on the same threads (BENCHMARKS.md). The relaxed-SIMD build (fused
 * multiply-add) is used where the browser validates it, plain SIMD128 otherwise. Helper threads
 * share the kernels' memory, so more than one thread needs cross-origin isolation; without it the
 * kernels run on one thread, still faster than onnxruntime-web on one.
 *
 * Both .wasm files are committed builds of kernels.c (`npm run kernels`), self-hosted and
 * precached like every other asset.
 */
import kernelsRelaxedUrl from '../../engine/kernels/wasm/kernels-relaxed.wasm?url';
import kernelsSimdUrl from '../../engine/kernels/wasm/kernels-simd.wasm?url';
import { canShareMemory, hasRelaxedSimd, spawnBrowserHelper } from './kernels/browser-helpers.ts';
import { createKernelSession, plainTensors } from '../../engine/kernels/kernel-session.ts';
import type { EngineSession, TensorFactory } from '../../engine/session.ts';
import { wasmThreadCount } from './ort-loader.ts';

export interface KernelEngine {
  session: EngineSession;
  tensors: TensorFactory;
  threads: number;
  /** 'relaxed' (fused multiply-add) or 'simd' (SIMD128). */
  flavour: 'relaxed' | 'simd';
}

let compiled: { flavour: KernelEngine['flavour']; module: Promise<WebAssembly.Module> } | null =
  null;

async function compileKernels(url: string): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not download the kernels (HTTP ${response.status})`);
  // compileStreaming needs the application/wasm type; any server's bytes compile the same.
  return WebAssembly.compile(await response.arrayBuffer());
}

function kernelModule(): { flavour: KernelEngine['flavour']; module: Promise<WebAssembly.Module> } {
  if (!compiled) {
    const flavour = hasRelaxedSimd() ? 'relaxed' : 'simd';
    const module = compileKernels(flavour === 'relaxed' ? kernelsRelaxedUrl : kernelsSimdUrl);
    module.catch(() => (compiled = null));
    compiled = { flavour, module };
  }
  return compiled;
}

/** Threads the kernels can use here: every core when memory can be shared, else one. */
export function kernelThreadCount(): number {
  return canShareMemory() ? wasmThreadCount() : 1;
}

/**
 * A session on the kernels for an ESRGAN-shaped ONNX model. Throws when the model has an
 * operator the kernels do not implement (the caller then uses onnxruntime-web).
 */
export async function createKernelEngine(modelBytes: Uint8Array): Promise<KernelEngine> {
  const { flavour, module } = kernelModule();
  const threads = kernelThreadCount();
  const session = await createKernelSession(modelBytes, await module, {
    threads,
    spawnHelper: spawnBrowserHelper,
  });
  return { session, tensors: plainTensors, threads, flavour };
}
