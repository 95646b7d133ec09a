/**
 * How big an image this device can restore without crashing the tab, from its real limits:
 * the device's memory (navigator.deviceMemory), the JS heap limit (performance.memory, Chromium),
 * the largest canvas browsers allow, and the WebGPU adapter's buffer and texture limits.
 */

export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxTextureDimension2D: number;
}

export interface MemoryFacts {
  /** GiB, as reported by navigator.deviceMemory (rounded by the browser); null where unknown. */
  deviceMemoryGiB: number | null;
  /** Bytes, performance.memory.jsHeapSizeLimit (Chromium); null where unknown. */
  jsHeapLimit: number | null;
  /** The WebGPU adapter's limits; null without an adapter (or before they are known). */
  gpu: GpuLimits | null;
}

export interface MemoryBudget {
  /** Bytes the app lets one restore use. */
  bytes: number;
  /** Largest output (and input) side: browsers' canvas cap. */
  maxSide: number;
  /** Largest output in pixels. */
  maxOutputPixels: number;
  facts: MemoryFacts;
}

/** Bytes held per output pixel: the page's canvas, the worker's result, and the encoder's copy. */
export const BYTES_PER_OUTPUT_PIXEL = 12;
/** Canvas sides above this fail in some browsers (Safari, older Chromium). */
export const CANVAS_MAX_SIDE = 16384;
/** Chromium's and Firefox's cap on a canvas's area. */
export const CANVAS_MAX_AREA = 268_435_456;
/** Used when the browser does not say how much memory the device has. */
const DEFAULT_DEVICE_MEMORY_GIB = 4;
/** The share of the device's memory one tab may plan to use. */
const DEVICE_MEMORY_SHARE = 1 / 4;
/** The share of the JS heap limit (ArrayBuffers count against the same process). */
const HEAP_SHARE = 3 / 4;

const GiB = 1024 ** 3;

export function budgetFrom(facts: MemoryFacts): MemoryBudget {
  const device = (facts.deviceMemoryGiB ?? DEFAULT_DEVICE_MEMORY_GIB) * GiB * DEVICE_MEMORY_SHARE;
  const heap = facts.jsHeapLimit ? facts.jsHeapLimit * HEAP_SHARE : Infinity;
  const bytes = Math.floor(Math.min(device, heap));
  const maxOutputPixels = Math.min(CANVAS_MAX_AREA, Math.floor(bytes / BYTES_PER_OUTPUT_PIXEL));
  return { bytes, maxSide: CANVAS_MAX_SIDE, maxOutputPixels, facts };
}

let gpuLimits: GpuLimits | null = null;
let gpuProbe: Promise<GpuLimits | null> | null = null;

interface GpuAdapterWithLimits {
  limits: GpuLimits;
}

/** Reads the WebGPU adapter's limits once (they only refine the message and the tile size). */
export function probeGpuLimits(): Promise<GpuLimits | null> {
  gpuProbe ??= (async () => {
    const gpu = (
      navigator as Navigator & {
        gpu?: { requestAdapter(): Promise<GpuAdapterWithLimits | null> };
      }
    ).gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (!adapter) return null;
    const { maxBufferSize, maxStorageBufferBindingSize, maxTextureDimension2D } = adapter.limits;
    gpuLimits = { maxBufferSize, maxStorageBufferBindingSize, maxTextureDimension2D };
    return gpuLimits;
  })();
  return gpuProbe;
}

export function currentFacts(): MemoryFacts {
  const nav = navigator as Navigator & { deviceMemory?: number };
  const perf = performance as Performance & { memory?: { jsHeapSizeLimit?: number } };
  return {
    deviceMemoryGiB: typeof nav.deviceMemory === 'number' ? nav.deviceMemory : null,
    jsHeapLimit: perf.memory?.jsHeapSizeLimit ?? null,
    gpu: gpuLimits,
  };
}

/** The budget of this device now. */
export function deviceBudget(): MemoryBudget {
  return budgetFrom(currentFacts());
}

export function formatMiB(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`;
}

export function formatMegapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return `${mp >= 10 ? Math.round(mp) : mp.toFixed(1)} MP`;
}

/** Where the numbers come from, for messages: "16 GB device memory, 4.1 GB JS heap limit, …". */
export function describeBasis(budget: MemoryBudget): string {
  const { facts } = budget;
  const parts = [
    facts.deviceMemoryGiB !== null
      ? `${facts.deviceMemoryGiB} GB device memory`
      : `device memory unknown (assumed ${DEFAULT_DEVICE_MEMORY_GIB} GB)`,
  ];
  if (facts.jsHeapLimit) parts.push(`${formatMiB(facts.jsHeapLimit)} JS heap limit`);
  if (facts.gpu) {
    parts.push(
      `GPU max buffer ${formatMiB(facts.gpu.maxBufferSize)}, max texture ${facts.gpu.maxTextureDimension2D} px`,
    );
  }
  return parts.join('; ');
}
