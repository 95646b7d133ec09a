/**
 * Recovery in the worker's restore loop (workers/restore/faults): a run over the buffer limit fails
 * as out of memory and is retried with smaller tiles until it fits, giving the same image as an
 * unlimited run; a lost WebGPU device moves the job to WASM. Real engine, real onnxruntime-node,
 * real built-in model; the limit is forced small.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../engine/image.ts';
import type { EngineRuntime, EngineSession } from '../engine/session.ts';
import { upscaleImage, upscaleOptionsFor } from '../engine/upscale.ts';
import {
  DeviceLostError,
  watchDevice,
  withDeviceWatch,
} from '../workers/restore/faults/device-loss.ts';
import {
  isOutOfMemory,
  OutOfMemoryError,
  smallerTileSize,
  withBufferLimit,
} from '../workers/restore/faults/memory.ts';
import { runWithRecovery } from '../workers/restore/faults/recovery.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { modelFile, readModelIndex } from './helpers/builtin-models.ts';
import { syntheticPhoto, maxAbsDiff } from './helpers/rgba-images.ts';

const manifest = readModelIndex().models.find((m) => m.id === 'esrgan-slim-x2')!;
let runtime: EngineRuntime;
let session: EngineSession;
const image: RgbaImage = syntheticPhoto(64, 48, 9);

beforeAll(async () => {
  runtime = createOrtNodeRuntime({ intraOpNumThreads: 1 });
  session = await runtime.createSession(modelFile(manifest));
});

function upscale(s: EngineSession, tileSize: number) {
  return upscaleImage(s, runtime, image, { ...upscaleOptionsFor(manifest), tileSize });
}

describe('out of memory', () => {
  it('retries with halved tiles until a tile fits the buffer limit, with the same result', async () => {
    const reference = await upscale(session, 64);
    const notices: string[] = [];
    const tried: number[] = [];
    // 1 x 3 x 2h x 2w float32: a 64-px tile needs 196 KB; a 36-px one 62 KB.
    const limited = withBufferLimit(session, 2, 100_000, 'test limit');
    const result = await runWithRecovery({
      backend: 'wasm',
      tileSize: 128,
      overlap: manifest.tileMargin,
      signal: new AbortController().signal,
      attempt: async (_backend, tileSize) => {
        tried.push(tileSize);
        return upscale(limited, tileSize);
      },
      notice: (message) => notices.push(message),
      restart: () => undefined,
      deviceLost: () => undefined,
    });
    expect(tried).toEqual([128, 64, 36]);
    expect(result.tileSize).toBe(36);
    expect(notices).toEqual([
      'Ran out of memory with 128-px tiles (a 64×48 tile needs a 144 KB output buffer, over the test limit of 98 KB); retried with 64-px tiles.',
      'Ran out of memory with 64-px tiles (a 64×48 tile needs a 144 KB output buffer, over the test limit of 98 KB); retried with 36-px tiles.',
    ]);
    expect(maxAbsDiff(result.output, reference)).toBeLessThanOrEqual(1);
  });

  it('gives up with a clear error at the smallest tile size', async () => {
    const limited = withBufferLimit(session, 2, 1000, 'test limit');
    await expect(
      runWithRecovery({
        backend: 'wasm',
        tileSize: 64,
        overlap: manifest.tileMargin,
        signal: new AbortController().signal,
        attempt: (_b, tileSize) => upscale(limited, tileSize),
        notice: () => undefined,
        restart: () => undefined,
        deviceLost: () => undefined,
      }),
    ).rejects.toThrow(/^Out of memory even with the smallest tiles \(36 px\)/);
  });

  it('recognises allocation failures from the runtimes and the browser', () => {
    expect(isOutOfMemory(new OutOfMemoryError('x'))).toBe(true);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new Error('Failed to allocate a buffer of size 1073741824'))).toBe(true);
    expect(
      isOutOfMemory(new Error('WebGPU reported 1 error(s) during inference: Out of memory')),
    ).toBe(true);
    expect(isOutOfMemory(new Error('Aborted(OOM)'))).toBe(true);
    expect(isOutOfMemory(new Error('input shape mismatch'))).toBe(false);
    expect(smallerTileSize(256, 10)).toBe(128);
    expect(smallerTileSize(40, 10)).toBe(36);
    expect(smallerTileSize(36, 10)).toBeNull();
  });
});

describe('device loss', () => {
  it('a run on a lost device fails at once with DeviceLostError, and the job moves to WASM', async () => {
    let lose!: (info: { reason: string; message: string }) => void;
    const device = {
      lost: new Promise<{ reason: string; message: string }>((resolve) => (lose = resolve)),
      destroy: () => lose({ reason: 'destroyed', message: 'Device was destroyed.' }),
    };
    const watch = watchDevice(device);
    // A "GPU" session whose runs hang once the device is gone, as a lost device's may.
    let runs = 0;
    const gpuSession: EngineSession = {
      ...session,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: (feeds) => {
        if (++runs === 2) device.destroy();
        return runs >= 2 ? new Promise(() => undefined) : session.run(feeds);
      },
    };
    const backends: string[] = [];
    const notices: string[] = [];
    let lost = false;
    const result = await runWithRecovery({
      backend: 'webgpu',
      tileSize: 36,
      overlap: manifest.tileMargin,
      signal: new AbortController().signal,
      attempt: (backend, tileSize) => {
        backends.push(backend);
        const s = backend === 'webgpu' ? withDeviceWatch(gpuSession, watch) : session;
        return upscale(s, tileSize);
      },
      notice: (message) => notices.push(message),
      restart: () => undefined,
      deviceLost: () => (lost = true),
    });
    expect(backends).toEqual(['webgpu', 'wasm']);
    expect(result.backend).toBe('wasm');
    expect(lost).toBe(true);
    expect(notices).toEqual([
      'The GPU stopped working during the restore (the WebGPU device was lost (destroyed: Device was destroyed.)), so it was finished on WASM.',
    ]);
    expect(maxAbsDiff(result.output, await upscale(session, 36))).toBe(0);
    await expect(withDeviceWatch(gpuSession, watch).run({})).rejects.toBeInstanceOf(
      DeviceLostError,
    );
  });
});
