/**
 * Runs a restore and recovers from the faults a long job meets on real devices:
 * - out of memory or over a buffer limit: retry with smaller tiles (halving, down to the minimum);
 * - WebGPU device lost, or WebGPU errors during the run: finish the job on WASM.
 * Each recovery is told to the user as a notice, and the output starts over from the first tile.
 */
import type { ImageSize } from '../../../engine/image.ts';
import { WebGpuRunError, type OrtWebBackend } from '../../runtime/ort-web.ts';
import { errorLine } from '../../contract/error-text.ts';
import { DeviceLostError } from './device-loss.ts';
import { isOutOfMemory, smallerTileSize } from './memory.ts';

/** `Output`: what an attempt gives (the app's worker needs only the output's size). */
export interface RecoveryOptions<Output extends ImageSize = ImageSize> {
  backend: OrtWebBackend;
  /** The tile size of the first attempt (as the planner will use it). */
  tileSize: number;
  overlap: number;
  signal: AbortSignal;
  attempt(backend: OrtWebBackend, tileSize: number): Promise<Output>;
  notice(message: string): void;
  /** The output starts over (on this backend). */
  restart(backend: OrtWebBackend): void;
  /** The WebGPU device is gone: drop what was loaded on it. */
  deviceLost(): void;
}

export interface RecoveredResult<Output extends ImageSize = ImageSize> {
  output: Output;
  backend: OrtWebBackend;
  tileSize: number;
}

export async function runWithRecovery<Output extends ImageSize>(
  options: RecoveryOptions<Output>,
): Promise<RecoveredResult<Output>> {
  let { backend, tileSize } = options;
  for (;;) {
    try {
      const output = await options.attempt(backend, tileSize);
      return { output, backend, tileSize };
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (error instanceof DeviceLostError && backend === 'webgpu') {
        options.deviceLost();
        backend = 'wasm';
        options.notice(
          `The GPU stopped working during the restore (${errorLine(error)}), so it was finished on WASM.`,
        );
        options.restart(backend);
        continue;
      }
      if (isOutOfMemory(error)) {
        const next = smallerTileSize(tileSize, options.overlap);
        if (next === null) {
          throw new Error(
            `Out of memory even with the smallest tiles (${tileSize} px): ${errorLine(error)}.`,
            { cause: error },
          );
        }
        options.notice(
          `Ran out of memory with ${tileSize}-px tiles (${errorLine(error)}); retried with ${next}-px tiles.`,
        );
        tileSize = next;
        options.restart(backend);
        continue;
      }
      if (error instanceof WebGpuRunError && backend === 'webgpu') {
        backend = 'wasm';
        options.notice(
          `WebGPU reported errors while restoring (${errorLine(error)}), so WASM was used instead.`,
        );
        options.restart(backend);
        continue;
      }
      throw error;
    }
  }
}
