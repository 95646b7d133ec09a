/**
 * The few WebGPU types this app touches. TypeScript's DOM library has none, and pulling in
 * @webgpu/types for four members is not worth a dependency.
 */

export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  /** Older Chromium spelling of info.isFallbackAdapter. */
  readonly isFallbackAdapter?: boolean;
}

export interface GpuErrorLike {
  readonly message: string;
}

export interface GpuDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  addEventListener(
    type: 'uncapturederror',
    listener: (event: Event & { error?: GpuErrorLike }) => void,
  ): void;
  removeEventListener(
    type: 'uncapturederror',
    listener: (event: Event & { error?: GpuErrorLike }) => void,
  ): void;
}

export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
  }): Promise<GpuAdapterLike | null>;
}

/** navigator.gpu where it exists (window or worker). */
export function navigatorGpu(): GpuLike | undefined {
  return (globalThis.navigator as (WorkerNavigator & { gpu?: GpuLike }) | undefined)?.gpu;
}
