/**
 * TEST-ONLY fault injection into a session's runs (the faults are described in
 * workers/contract/test-faults.ts).
 */
import type { EngineSession } from '../../../engine/session.ts';
import type { TestFaults } from '../../contract/test-faults.ts';

export type { TestFaults };

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
