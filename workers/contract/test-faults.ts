/**
 * TEST-ONLY faults for the end-to-end tests (e2e/faults-*.spec.ts). The page passes these only
 * when a test has set `window.__GENDR_TEST_FAULTS__` before the app loaded (see
 * src/features/faults/test-faults.ts); nothing in the app's UI or normal use sets them. The
 * restore worker injects them (workers/restore/faults/inject-faults.ts).
 */
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
