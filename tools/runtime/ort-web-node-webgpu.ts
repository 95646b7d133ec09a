/**
 * EngineRuntime for onnxruntime-web's WebGPU execution provider (`onnxruntime-web/webgpu`, the
 * same build the app's worker loads) under Node, on Dawn through the npm `webgpu` package
 * (dawn.node): the browser's GPU code path, on a machine that has a GPU and a Vulkan driver but no
 * browser. Used by `npm run bench:gpu -- --runtime webgpu` (bench/gpu/bench.ts, docs/gpu-check.md).
 *
 * Sessions go through the app's own adapter (workers/runtime/ort-web.ts), so every run is
 * guarded by WebGPU error scopes exactly as in the browser. onnxruntime-web creates its GPUDevice
 * itself (asking for the adapter's limits and the features it uses, as in the app); this module
 * hands it the adapter (`ort.env.webgpu.adapter`) so the one reported is the one used.
 *
 * Three things differ from a browser and are patched on Dawn's prototypes before onnxruntime-web
 * loads (once per process):
 * - `navigator.gpu` does not exist: it is set to the Dawn instance.
 * - onnxruntime-web's WebAssembly memory is a SharedArrayBuffer, and dawn.node's
 *   `GPUQueue.writeBuffer` rejects views of one ("Invalid argument"): such data is copied first.
 * - dawn.node's `createComputePipelineAsync` is slower than the synchronous call (the tiny pack's
 *   29 pipelines on SwiftShader, 2 busy cores: 143 s against 75 s, one run each): it is answered
 *   with the synchronous `createComputePipeline`.
 * - Node's event loop must be kept turning while onnxruntime-web works (see whileBusy below).
 *
 * GPU memory is measured by tracking GPUBuffer allocations: every `createBuffer` adds its size,
 * `destroy` takes it off, and the peak of the live sum is kept. Textures, pipelines and the
 * driver's own allocations are not counted (onnxruntime-web's WebGPU EP keeps tensors and weights
 * in buffers only).
 *
 * onnxruntime-web runs with one WebAssembly thread in Node: its threads are Web Workers.
 */
import type * as OrtWeb from 'onnxruntime-web';
import type { EngineRuntime } from '../../engine/session.ts';
import { createOrtWebRuntime } from '../../workers/runtime/ort-web.ts';

/** What the bench reports about the adapter. */
export interface NodeWebGpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

/** GPUBuffer bytes allocated through the device (see the module comment for what it counts). */
export interface GpuBufferMemory {
  /** Bytes in buffers created and not destroyed. */
  readonly liveBytes: number;
  /** The highest liveBytes since the process started or the last resetPeak(). */
  readonly peakBytes: number;
  /** Buffers created so far. */
  readonly buffersCreated: number;
  resetPeak(): void;
}

export interface NodeWebGpu {
  runtime: EngineRuntime;
  adapter: NodeWebGpuAdapter;
  /** Whether the adapter has shader-f16 (fp16 packs need it on WebGPU). */
  shaderF16: boolean;
  memory: GpuBufferMemory;
  /** onnxruntime-web's own version. */
  ortVersion: string;
}

/** No WebGPU adapter on this machine (or dawn.node could not load): the reason, in words. */
export class NoWebGpuAdapterError extends Error {
  override readonly name = 'NoWebGpuAdapterError';
}

/** The part of dawn.node's module this file uses. */
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<{
    info: Partial<Omit<NodeWebGpuAdapter, 'features' | 'limits'>>;
    features: ReadonlySet<string>;
    limits: object;
  } | null>;
}
type Method = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string, Method | undefined>;

/** Dawn's default flags: the Vulkan backend (the only one on Linux servers). */
export const DEFAULT_DAWN_FLAGS = ['backend=vulkan'];

let dawn: Promise<{ gpu: DawnGpu; globals: Record<string, unknown> }> | undefined;
let probed: Promise<NodeWebGpuAdapter> | undefined;
let created: Promise<NodeWebGpu> | undefined;

let liveBytes = 0;
let peakBytes = 0;
let buffersCreated = 0;
const memory: GpuBufferMemory = {
  get liveBytes() {
    return liveBytes;
  },
  get peakBytes() {
    return peakBytes;
  },
  get buffersCreated() {
    return buffersCreated;
  },
  resetPeak() {
    peakBytes = liveBytes;
  },
};

function proto(globals: Record<string, unknown>, name: string): Proto {
  const ctor = globals[name] as { prototype?: Proto } | undefined;
  if (!ctor?.prototype) throw new NoWebGpuAdapterError(`dawn.node has no ${name}`);
  return ctor.prototype;
}

function patchDawn(globals: Record<string, unknown>): void {
  const device = proto(globals, 'GPUDevice');
  const queue = proto(globals, 'GPUQueue');
  const buffer = proto(globals, 'GPUBuffer');

  const createBuffer = device.createBuffer!;
  const sizes = new WeakMap<object, number>();
  device.createBuffer = function (this: unknown, ...args: unknown[]) {
    const b = createBuffer.apply(this, args) as object;
    const size = Number((args[0] as { size?: number } | undefined)?.size ?? 0);
    sizes.set(b, size);
    buffersCreated++;
    liveBytes += size;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
    return b;
  };
  const destroy = buffer.destroy!;
  buffer.destroy = function (this: unknown, ...args: unknown[]) {
    const size = sizes.get(this as object);
    if (size !== undefined) {
      liveBytes -= size;
      sizes.delete(this as object);
    }
    return destroy.apply(this, args);
  };

  const createComputePipeline = device.createComputePipeline!;
  device.createComputePipelineAsync = function (this: unknown, ...args: unknown[]) {
    try {
      return Promise.resolve(createComputePipeline.apply(this, args));
    } catch (e) {
      return Promise.reject(e);
    }
  };

  const writeBuffer = queue.writeBuffer!;
  queue.writeBuffer = function (this: unknown, ...args: unknown[]) {
    const [target, offset, data, dataOffset = 0, size] = args as [
      unknown,
      number,
      unknown,
      number | undefined,
      number | undefined,
    ];
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const bpe = (data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const count = size ?? data.byteLength / bpe - dataOffset;
      const bytes = new Uint8Array(data.buffer, data.byteOffset + dataOffset * bpe, count * bpe);
      return writeBuffer.call(this, target, offset, bytes.slice());
    }
    return writeBuffer.apply(this, args);
  };
}

async function loadDawn(flags: readonly string[]) {
  let mod: DawnModule;
  try {
    mod = (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    throw new NoWebGpuAdapterError(
      `the npm 'webgpu' package (dawn.node) did not load: ${(e as Error).message}`,
    );
  }
  Object.assign(globalThis, mod.globals);
  patchDawn(mod.globals);
  const gpu = mod.create([...flags]);
  // onnxruntime-web looks for navigator.gpu (Node 21+ has a navigator; Node 20 has none).
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return { gpu, globals: mod.globals };
}

async function requestAdapter(flags: readonly string[]) {
  dawn ??= loadDawn(flags);
  const { gpu } = await dawn;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new NoWebGpuAdapterError(
      'Dawn found no WebGPU adapter (Vulkan): no driver, or one Dawn cannot use; set ' +
        'VK_ICD_FILENAMES to a Vulkan ICD (e.g. /usr/lib/chromium/vk_swiftshader_icd.json)',
    );
  }
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const v = (adapter.limits as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const info: NodeWebGpuAdapter = {
    vendor: adapter.info.vendor ?? '',
    architecture: adapter.info.architecture ?? '',
    device: adapter.info.device ?? '',
    description: adapter.info.description ?? '',
    isFallbackAdapter: adapter.info.isFallbackAdapter ?? false,
    features: [...adapter.features].sort(),
    limits,
  };
  return { adapter, info };
}

/**
 * Node ends a turn of its event loop with nothing left to wait on (dawn.node's promises hold no
 * libuv handle) by draining V8's background tasks, and that includes optimising
 * onnxruntime-web's 27 MB WebAssembly module: measured here, the first timer after the first
 * session fired 85 s late. A referenced timer while a session is created or runs keeps the loop
 * turning, as a browser's does.
 */
let busy = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;
async function whileBusy<T>(fn: () => Promise<T>): Promise<T> {
  if (busy++ === 0) keepAlive = setInterval(() => {}, 1000);
  try {
    return await fn();
  } finally {
    if (--busy === 0) clearInterval(keepAlive);
  }
}

function keptAlive(runtime: EngineRuntime): EngineRuntime {
  return {
    backend: runtime.backend,
    tensor: (type, data, dims) => runtime.tensor(type, data, dims),
    createSession: (model, options) =>
      whileBusy(async () => {
        const session = await runtime.createSession(model, options);
        return {
          ...session,
          run: (feeds) => whileBusy(() => session.run(feeds)),
          release: session.release && (() => whileBusy(() => session.release!())),
        };
      }),
  };
}

/**
 * The adapter Dawn would use, or NoWebGpuAdapterError. Cheap after the first call; loads no
 * onnxruntime-web. Flags apply to the first call in the process only.
 */
export function probeNodeWebGpu(flags: readonly string[] = DEFAULT_DAWN_FLAGS) {
  probed ??= requestAdapter(flags).then((a) => a.info);
  return probed;
}

/**
 * The process's WebGPU runtime (one per process: onnxruntime-web keeps one device). Throws
 * NoWebGpuAdapterError where there is no adapter.
 */
export function createNodeWebGpu(flags: readonly string[] = DEFAULT_DAWN_FLAGS) {
  created ??= (async () => {
    const { adapter, info } = await requestAdapter(flags);
    const ort = (await import('onnxruntime-web/webgpu')) as typeof OrtWeb;
    ort.env.wasm.numThreads = 1;
    (ort.env.webgpu as { adapter: unknown }).adapter = adapter;
    const shaderF16 = info.features.includes('shader-f16');
    return {
      runtime: keptAlive(createOrtWebRuntime(ort, 'webgpu')),
      adapter: info,
      shaderF16,
      memory,
      ortVersion: ort.env.versions.web ?? ort.env.versions.common,
    };
  })();
  return created;
}
