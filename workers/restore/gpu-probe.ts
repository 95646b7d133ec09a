/** Finds out whether WebGPU can be used and picks the backend for a restore. */
import { navigatorGpu, type GpuAdapterLike } from '../runtime/webgpu-types.ts';
import type { BackendName, BackendPreference } from '../contract/restore-protocol.ts';

export interface GpuProbe {
  adapter: GpuAdapterLike | null;
  /** e.g. 'google swiftshader (fallback)'; null without an adapter. */
  description: string | null;
  /** A software rasteriser (SwiftShader): works, but far slower than WASM. */
  software: boolean;
}

let probe: Promise<GpuProbe> | null = null;

export function probeGpu(): Promise<GpuProbe> {
  probe ??= (async (): Promise<GpuProbe> => {
    const gpu = navigatorGpu();
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (!adapter) return { adapter: null, description: null, software: false };
    const info = adapter.info ?? {};
    const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
    const words = [info.vendor, info.architecture, info.device, info.description]
      .filter(Boolean)
      .join(' ');
    const software = fallback || /swiftshader|llvmpipe|software/i.test(words);
    const description = `${words || 'unknown adapter'}${fallback ? ' (fallback)' : ''}`;
    return { adapter, description, software };
  })();
  return probe;
}

export interface BackendPlan {
  backend: BackendName;
  /** Shown to the user when the plan differs from what they asked for. */
  notice: string | null;
}

export async function planBackend(preference: BackendPreference): Promise<BackendPlan> {
  if (preference === 'wasm') return { backend: 'wasm', notice: null };
  const { adapter, software } = await probeGpu();
  if (preference === 'webgpu') {
    return adapter
      ? { backend: 'webgpu', notice: null }
      : {
          backend: 'wasm',
          notice: 'WebGPU is not available in this browser, so WASM was used instead.',
        };
  }
  // Automatic: a software WebGPU adapter is 100x slower than WASM on the same CPU.
  return { backend: adapter && !software ? 'webgpu' : 'wasm', notice: null };
}
