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
  /** Model runs so far, shared by every session of one restore (a pack has several). */
  counter?: { runs: number };
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
  const counter = targets.counter ?? { runs: 0 };
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      if (faults.throwingModel) throw new Error('the model failed on this input (test fault)');
      if (faults.crashAfterRuns !== undefined && counter.runs >= faults.crashAfterRuns) {
        targets.crash();
        return new Promise(() => undefined);
      }
      if (faults.loseDeviceAfterRuns !== undefined && counter.runs === faults.loseDeviceAfterRuns) {
        targets.device?.destroy();
      }
      counter.runs++;
      return session.run(feeds);
    },
  };
}
