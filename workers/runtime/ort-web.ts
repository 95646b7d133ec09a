/**
 * EngineRuntime adapter for onnxruntime-web (either the `onnxruntime-web/wasm` or the
 * `onnxruntime-web/webgpu` build: the caller imports one and passes its namespace in, so this
 * module never decides which build the app downloads).
 *
 * WebGPU runs are guarded with device error scopes: a run during which the device reported a
 * validation, out-of-memory or internal error throws WebGpuRunError instead of returning numbers
 * nobody should trust.
 */
import type * as OrtWeb from 'onnxruntime-web';
import type {
  CreateSessionOptions,
  EngineRuntime,
  EngineSession,
  EngineTensor,
  TensorData,
  TensorMetadata,
  TensorType,
} from '../../engine/session.ts';
import type { GpuDeviceLike } from './webgpu-types.ts';

export type OrtWebModule = typeof OrtWeb;
export type OrtWebBackend = 'wasm' | 'webgpu';

/** A WebGPU error reported by the device while a session ran: the output is not trustworthy. */
export class WebGpuRunError extends Error {
  override readonly name = 'WebGpuRunError';
}

export interface OrtWebRuntimeOptions {
  /** Session options merged over the defaults for the backend. */
  sessionOptions?: OrtWeb.InferenceSession.SessionOptions;
}

export function sessionOptionsFor(backend: OrtWebBackend): OrtWeb.InferenceSession.SessionOptions {
  return backend === 'webgpu'
    ? {
        executionProviders: [{ name: 'webgpu', preferredLayout: 'NCHW' }],
        graphOptimizationLevel: 'all',
      }
    : { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
}

export function createOrtWebRuntime(
  ort: OrtWebModule,
  backend: OrtWebBackend,
  options: OrtWebRuntimeOptions = {},
): EngineRuntime {
  return {
    backend,
    tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor {
      // ort.Tensor's overloads pair each type with its array class; the engine guarantees that.
      return new ort.Tensor(type, data as Float32Array, dims as number[]);
    },
    async createSession(
      model: Uint8Array | string,
      create: CreateSessionOptions = {},
    ): Promise<EngineSession> {
      const sessionOptions: OrtWeb.InferenceSession.SessionOptions = {
        ...sessionOptionsFor(backend),
        ...options.sessionOptions,
      };
      // External data (weights beside the model): bytes or a URL, under the name the model uses.
      if (create.externalData?.length) {
        sessionOptions.externalData = create.externalData.map((f) => ({
          path: f.path,
          data: f.data,
        }));
      }
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      // After the first WebGPU session, ORT publishes the device it created here.
      const device =
        backend === 'webgpu'
          ? (((await ort.env.webgpu.device) as unknown as GpuDeviceLike | undefined) ?? null)
          : null;
      return wrapSession(session, device);
    },
  };
}

function metadata(
  list: readonly OrtWeb.InferenceSession.ValueMetadata[] | undefined,
): TensorMetadata[] | undefined {
  return list?.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape }
      : { name: m.name, type: 'non-tensor' },
  );
}

function wrapSession(
  session: OrtWeb.InferenceSession,
  device: GpuDeviceLike | null,
): EngineSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: metadata(session.inputMetadata),
    outputMetadata: metadata(session.outputMetadata),
    async run(feeds: Record<string, EngineTensor>): Promise<Record<string, EngineTensor>> {
      const ortFeeds = feeds as unknown as OrtWeb.InferenceSession.FeedsType;
      if (!device) return session.run(ortFeeds);
      return runGuarded(device, () => session.run(ortFeeds));
    },
    release: () => session.release(),
  };
}

const SCOPES = ['validation', 'out-of-memory', 'internal'] as const;

/** Runs `fn` inside WebGPU error scopes and throws WebGpuRunError if any caught an error. */
async function runGuarded<T>(device: GpuDeviceLike, fn: () => Promise<T>): Promise<T> {
  const uncaptured: string[] = [];
  const onUncaptured = (event: Event & { error?: { message: string } }) => {
    uncaptured.push(event.error?.message ?? 'unknown WebGPU error');
  };
  device.addEventListener('uncapturederror', onUncaptured);
  for (const scope of SCOPES) device.pushErrorScope(scope);
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await fn();
  } catch (error) {
    failure = error;
  }
  const caught: string[] = [];
  for (let i = 0; i < SCOPES.length; i++) {
    const error = await device.popErrorScope().catch(() => null);
    if (error) caught.push(error.message);
  }
  device.removeEventListener('uncapturederror', onUncaptured);
  const errors = [...caught, ...uncaptured];
  if (errors.length > 0) {
    const first = errors[0].split('\n')[0];
    throw new WebGpuRunError(
      `WebGPU reported ${errors.length} error(s) during inference: ${first}`,
    );
  }
  if (failure !== undefined) throw failure;
  return result as T;
}
