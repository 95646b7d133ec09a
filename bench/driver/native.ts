/**
 * The native side: the engine's pipeline (the same upscaleImage the CLI runs) and raw untiled
 * session.run on onnxruntime-node's CPU provider, with a given thread count.
 */
import { readFile } from 'node:fs/promises';
import { decodeImage } from '../../tools/image-io/decode.ts';
import { createOrtNodeRuntime } from '../../tools/runtime/ort-node.ts';
import type { BuiltinModelManifest } from '../../engine/models/builtin-manifest.ts';
import type { EngineSession } from '../../engine/session.ts';
import { createKernelSession } from '../../engine/kernels/kernel-session.ts';
import { upscaleImage, upscaleOptionsFor } from '../../engine/upscale.ts';

export interface NativeRun {
  wallMs: number;
  inferenceMs: number;
}

export async function nativePipeline(
  modelPath: string,
  manifest: BuiltinModelManifest,
  imageFile: string,
  threads: number,
  runs: number,
  tileSize?: number,
): Promise<NativeRun[]> {
  const runtime = createOrtNodeRuntime({ intraOpNumThreads: threads });
  const inner = await runtime.createSession(new Uint8Array(await readFile(modelPath)));
  let inferenceMs = 0;
  const session: EngineSession = {
    ...inner,
    async run(feeds) {
      const t = performance.now();
      try {
        return await inner.run(feeds);
      } finally {
        inferenceMs += performance.now() - t;
      }
    },
  };
  const image = await decodeImage(imageFile);
  const out: NativeRun[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      inferenceMs = 0;
      const start = performance.now();
      await upscaleImage(session, runtime, image, { ...upscaleOptionsFor(manifest), tileSize });
      const wallMs = performance.now() - start;
      if (i > 0) out.push({ wallMs, inferenceMs });
    }
  } finally {
    await inner.release?.();
  }
  return out;
}

/** Untiled session.run on a size x size input; returns ms per run and the last output. */
export async function nativeRaw(
  model: Uint8Array,
  size: number,
  rangeMax: number,
  threads: number,
  runs: number,
): Promise<{ times: number[]; output: Float32Array }> {
  const runtime = createOrtNodeRuntime({ intraOpNumThreads: threads });
  const session = await runtime.createSession(model);
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) * (rangeMax / 255);
  const times: number[] = [];
  let output: Float32Array = new Float32Array(0);
  try {
    for (let i = 0; i <= runs; i++) {
      const input = runtime.tensor('float32', data, [1, 3, size, size]);
      const start = performance.now();
      const result = await session.run({ [session.inputNames[0]]: input });
      if (i > 0) times.push(performance.now() - start);
      output = result[session.outputNames[0]].data as Float32Array;
    }
  } finally {
    await session.release?.();
  }
  return { times, output };
}

/** One untiled run on the hand-written kernels (one thread, in this process), for its output. */
export async function kernelRaw(
  model: Uint8Array,
  wasm: Uint8Array,
  size: number,
  rangeMax: number,
  options: { winograd?: boolean } = {},
): Promise<Float32Array> {
  const session = await createKernelSession(model, wasm, options);
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) * (rangeMax / 255);
  const out = await session.run({
    [session.inputNames[0]]: { type: 'float32', data, dims: [1, 3, size, size] },
  });
  await session.release?.();
  return out[session.outputNames[0]].data as Float32Array;
}
