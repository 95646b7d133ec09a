/**
 * TEST-ONLY fault injection for the end-to-end tests (e2e/faults-*.spec.ts). The page passes
 * these only when a test has set `window.__GENDR_TEST_FAULTS__` before the app loaded (see
 * src/features/faults/test-faults.ts); nothing in the app's UI or normal use sets them.
 */
import type { EngineSession } from '../../engine/session.ts';

export interface TestFaults {
  /** Input tile size to start with, so that a tiny image has several tiles. */
  tileSize?: number;
  /** Calls device.destroy() on the WebGPU device after this many model runs (device loss). */
  loseDeviceAfterRuns?: number;
  /** A forced buffer limit in bytes: larger model outputs fail as out of memory. */
  bufferLimitBytes?: number;
  /** Closes the worker (as a crash would) after this many model runs. */
  crashAfterRuns?: number;
  /** Every model run throws. */
  throwingModel?: boolean;
  /** The hand-written CPU kernels fail to start (as in a browser without WebAssembly SIMD). */
  kernelsUnavailable?: boolean;
}

export interface FaultTargets {
  /** The WebGPU device of the current session, if any. */
  device: { destroy(): void } | null;
  /** Ends the worker abruptly (self.close()). */
  crash(): void;
}

/** The session with the requested faults injected into its runs. */
export function injectFaults(
  session: EngineSession,
  faults: TestFaults | undefined,
  targets: FaultTargets,
): EngineSession {
  if (!faults || (!faults.loseDeviceAfterRuns && !faults.crashAfterRuns && !faults.throwingModel)) {
    return session;
  }
  let runs = 0;
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      if (faults.throwingModel) throw new Error('the model failed on this input (test fault)');
      if (faults.crashAfterRuns !== undefined && runs >= faults.crashAfterRuns) {
        targets.crash();
        return new Promise(() => undefined);
      }
      if (faults.loseDeviceAfterRuns !== undefined && runs === faults.loseDeviceAfterRuns) {
        targets.device?.destroy();
      }
      runs++;
      return session.run(feeds);
    },
  };
}
