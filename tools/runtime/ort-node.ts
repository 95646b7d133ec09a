/**
 * EngineRuntime adapter for onnxruntime-node (native CPU execution provider), used by tests and the
 * command line. The engine itself never imports a runtime.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type {
  CreateSessionOptions,
  EngineRuntime,
  ExternalDataFile,
  EngineSession,
  EngineTensor,
  TensorData,
  TensorMetadata,
  TensorType,
} from '../../engine/session.ts';

export interface OrtNodeOptions {
  /** Threads for one operator (default: all available cores). */
  intraOpNumThreads?: number;
  /** Threads across operators (default 1: these graphs are sequential). */
  interOpNumThreads?: number;
  /** Graph optimisation level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export function createOrtNodeRuntime(opts: OrtNodeOptions = {}): EngineRuntime {
  const intraOpNumThreads = opts.intraOpNumThreads ?? os.availableParallelism();
  if (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 1) {
    throw new RangeError(`intraOpNumThreads must be a positive integer, got ${intraOpNumThreads}`);
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads,
    interOpNumThreads: opts.interOpNumThreads ?? 1,
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
  };
  return {
    backend: 'cpu',
    tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor {
      return new ort.Tensor(type, data, dims);
    },
    async createSession(
      model: Uint8Array | string,
      create: CreateSessionOptions = {},
    ): Promise<EngineSession> {
      const externalData = await externalDataOption(model, create.externalData ?? []);
      const options = externalData.length ? { ...sessionOptions, externalData } : sessionOptions;
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
      return wrapSession(session);
    },
  };
}

/**
 * The binding's `externalData` option takes bytes only. A model loaded from a path finds the data
 * files its tensors name next to it by itself, so those are left to onnxruntime (read from disk
 * there, never copied here); other file paths are read into memory.
 */
async function externalDataOption(
  model: Uint8Array | string,
  files: readonly ExternalDataFile[],
): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const f of files) {
    if (typeof f.data !== 'string') {
      out.push({ path: f.path, data: f.data });
      continue;
    }
    if (
      typeof model === 'string' &&
      path.resolve(path.dirname(model), f.path) === path.resolve(f.data)
    ) {
      continue;
    }
    const buf = await readFile(f.data);
    out.push({ path: f.path, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
  }
  return out;
}

function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): TensorMetadata[] {
  return list.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape }
      : { name: m.name, type: 'non-tensor' },
  );
}

function wrapSession(session: ort.InferenceSession): EngineSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: metadata(session.inputMetadata),
    outputMetadata: metadata(session.outputMetadata),
    async run(feeds: Record<string, EngineTensor>): Promise<Record<string, EngineTensor>> {
      return session.run(feeds as Record<string, ort.Tensor>);
    },
    release: () => session.release(),
  };
}
