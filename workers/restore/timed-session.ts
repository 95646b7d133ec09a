/**
 * A session whose runs are timed: each run's milliseconds inside the wrapped session are added to
 * a clock shared by every session of one restore. The restore result reports the sum, so the time
 * the app spends around the model (tiling, blending, messages to the page) can be read off the
 * same restore it happened in (docs/bench.md, "Pipeline overhead").
 */
import type { EngineSession } from '../../engine/session.ts';

/** Milliseconds spent inside session.run, summed. */
export interface RunClock {
  ms: number;
}

export function timedSession(session: EngineSession, clock: RunClock): EngineSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    async run(feeds) {
      const start = performance.now();
      try {
        return await session.run(feeds);
      } finally {
        clock.ms += performance.now() - start;
      }
    },
  };
}
