/**
 * A session that lets the worker's event loop turn before each run. A WASM run (onnxruntime-web or
 * the kernels) blocks the worker for a whole tile, so without this the engine would go from tile to
 * tile in microtasks: a cancel() message would wait for the last tile, and a finished tile's
 * message to the page (posted from a microtask) would wait for the next tile's run.
 */
import type { EngineSession } from '../../engine/session.ts';

/**
 * One macrotask turn. A MessageChannel message, not setTimeout(0): nested timers are clamped to
 * 4 ms, which a restore of many tiles would pay on every run.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** `session`, yielding before each run and then failing fast if `signal` was aborted meanwhile. */
export function yieldingSession(session: EngineSession, signal?: AbortSignal): EngineSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    async run(feeds) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
      return session.run(feeds);
    },
  };
}
