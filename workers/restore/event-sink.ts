/**
 * The page's callbacks (a Comlink proxy, so each call is a message), wrapped so that a closed
 * page cannot crash the worker, tile buffers are transferred, and `flush()` waits until the page
 * has handled every call: the result must not overtake the last tiles, which travel on another
 * port.
 */
import * as Comlink from 'comlink';
import type { TileUpdate } from '../../engine/upscale.ts';
import type { RestoreEvents, TileMessage } from '../contract/restore-protocol.ts';

/** A tile for the page that owns its buffer (copied only if it is a view into a larger one). */
function tileMessage(update: TileUpdate): TileMessage {
  const { data } = update;
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const owned = whole && data.buffer instanceof ArrayBuffer ? data : data.slice();
  return { rect: update.rect, data: owned, done: update.done, total: update.total };
}

export function eventSink(events: RestoreEvents) {
  const pending = new Set<Promise<unknown>>();
  const track = (call: () => unknown) => {
    const promise = Promise.resolve()
      .then(call)
      .catch(() => undefined);
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  return {
    stage: (...args: Parameters<RestoreEvents['stage']>) => track(() => events.stage(...args)),
    notice: (message: string) => track(() => events.notice(message)),
    restart: (...args: Parameters<RestoreEvents['restart']>) =>
      track(() => events.restart(...args)),
    progress: (done: number, total: number) => track(() => events.progress(done, total)),
    tile: (update: TileUpdate) => {
      const message = tileMessage(update);
      track(() => events.tile(Comlink.transfer(message, [message.data.buffer as ArrayBuffer])));
    },
    flush: () => Promise.all([...pending]),
    /** Waits for every call, then closes the proxy's message port. */
    async close() {
      await Promise.all([...pending]);
      (events as Partial<Comlink.Remote<RestoreEvents>>)[Comlink.releaseProxy]?.();
    },
  };
}

export type Sink = ReturnType<typeof eventSink>;
