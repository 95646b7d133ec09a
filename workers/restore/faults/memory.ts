/**
 * Out-of-memory handling: recognising allocation failures from onnxruntime-web (WASM and WebGPU)
 * and the browser, a per-run buffer limit (the WebGPU device's real maxStorageBufferBindingSize,
 * or a forced one in tests), and the smaller tile size to retry with.
 */
import type { EngineSession } from '../../../engine/session.ts';
import { minTileSize } from '../../../engine/tiling/plan.ts';

/** A model run needed more memory than the device allows. */
export class OutOfMemoryError extends Error {
  override readonly name = 'OutOfMemoryError';
}

const OOM_PATTERNS =
  /out[ -]of[ -]memory|failed to allocate|allocation failed|bad_alloc|\bOOM\b|cannot enlarge memory|memory access out of bounds|maxBufferSize|maxStorageBufferBindingSize|exceeds the (max|maximum) buffer/i;

export function isOutOfMemory(error: unknown): boolean {
  if (error instanceof OutOfMemoryError) return true;
  if (error instanceof RangeError && /alloc|memory|buffer/i.test(error.message)) return true;
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  return OOM_PATTERNS.test(text);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 2
    ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}

/**
 * Fails a run whose float32 output (1 x 3 x H*scale x W*scale) would exceed `limitBytes`, before
 * the runtime tries to allocate it, as OutOfMemoryError.
 */
export function withBufferLimit(
  session: EngineSession,
  scale: number,
  limitBytes: number | null,
  source: string,
): EngineSession {
  if (!limitBytes) return session;
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const input = feeds[session.inputNames[0]];
      const [, , h, w] = input.dims;
      const bytes = 3 * h * scale * w * scale * 4;
      if (bytes > limitBytes) {
        throw new OutOfMemoryError(
          `a ${w}×${h} tile needs a ${formatBytes(bytes)} output buffer, over the ${source} of ${formatBytes(limitBytes)}`,
        );
      }
      return session.run(feeds);
    },
  };
}

/** The next tile size to try after running out of memory, or null when already at the minimum. */
export function smallerTileSize(current: number, overlap: number): number | null {
  const min = minTileSize(overlap);
  if (current <= min) return null;
  return Math.max(min, Math.floor(current / 2));
}
