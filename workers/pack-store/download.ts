/**
 * One pack file's bytes, from a source that can be reopened at an offset: a download that stalls
 * (no bytes for STALL_TIMEOUT_MS) is reopened where the verified bytes end, with an HTTP Range
 * request; a server that ignores Range sends the file again from the start, and the sink is told
 * to start over. After DOWNLOAD_ATTEMPTS stalls the install fails with a message that says so. A
 * connection that breaks off fails the install at once (the page offers Retry): the server said
 * something went wrong, which waiting will not mend.
 */
import { chunkReader } from './chunk-reader.ts';
import { PackInstallError } from './errors.ts';
import { megabytes } from './quota.ts';
import { errorText } from '../contract/error-text.ts';

/** No bytes for this long and the download counts as stalled. */
export const STALL_TIMEOUT_MS = 30_000;
/** Tries per file: the first download and its resumptions. */
export const DOWNLOAD_ATTEMPTS = 4;

/** A stream of the file's bytes from `offset` on. */
export interface OpenedAt {
  stream: ReadableStream<Uint8Array>;
  /** Where the stream starts: the offset asked for, or 0 when the source cannot seek. */
  offset: number;
}

/** Opens the file at `offset`; `signal` aborts this one attempt (a stall) or the install. */
export type OpenAt = (offset: number, signal: AbortSignal) => Promise<OpenedAt>;

export interface DownloadSink {
  /** `bytes` (valid until the next call) belong at `at`. */
  chunk(bytes: Uint8Array, at: number): void;
  /** The source sent the file from the start again: forget everything so far. */
  restart(): void;
}

export interface DownloadOptions {
  signal: AbortSignal;
  stallTimeoutMs?: number;
  attempts?: number;
}

class Stalled extends Error {}

/** Streams the file `path` of `total` bytes into `sink`; resolves with the byte count read. */
export async function download(
  path: string,
  total: number,
  openAt: OpenAt,
  sink: DownloadSink,
  o: DownloadOptions,
): Promise<number> {
  const stallMs = o.stallTimeoutMs ?? STALL_TIMEOUT_MS;
  const attempts = o.attempts ?? DOWNLOAD_ATTEMPTS;
  let at = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const attemptAbort = new AbortController();
    const signal = AbortSignal.any([o.signal, attemptAbort.signal]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stall = () =>
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          attemptAbort.abort(new Stalled());
          reject(new Stalled());
        }, stallMs);
      });
    const race = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, stall()]).finally(() => clearTimeout(timer));
    let opened: OpenedAt | null = null;
    try {
      opened = await race(openAt(at, signal));
      if (opened.offset !== at) {
        if (opened.offset !== 0) throw new Error(`the server resumed at byte ${opened.offset}`);
        at = 0;
        sink.restart();
      }
      const reader = chunkReader(opened.stream);
      try {
        for (;;) {
          const bytes = await race(reader.read());
          if (!bytes) return at;
          sink.chunk(bytes, at);
          at += bytes.byteLength;
          o.signal.throwIfAborted();
        }
      } finally {
        reader.release();
      }
    } catch (error) {
      if (o.signal.aborted) throw error;
      if (error instanceof PackInstallError) throw error;
      attemptAbort.abort();
      if (!(error instanceof Stalled)) {
        throw new PackInstallError(
          'network',
          `${path}: the download broke off after ${megabytes(at)} of ${megabytes(total)} (${errorText(error)}). Nothing was kept; try again.`,
          path,
        );
      }
    } finally {
      clearTimeout(timer);
      await opened?.stream.cancel().catch(() => undefined);
    }
  }
  throw new PackInstallError(
    'network',
    `${path}: the download stalled (no data for ${stallMs / 1000} s after ${megabytes(at)} of ${megabytes(total)}, ${attempts} tries). Check your connection and try again.`,
    path,
  );
}

/** OpenAt for a URL: a Range request past the start, honoured when the server answers 206. */
export function urlOpener(
  url: string,
  path: string,
  fetchFile: (
    url: string,
    path: string,
    signal: AbortSignal,
    init?: RequestInit,
  ) => Promise<Response>,
): OpenAt {
  return async (offset, signal) => {
    const res = await fetchFile(
      url,
      path,
      signal,
      offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : undefined,
    );
    const start =
      res.status === 206 ? /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '') : null;
    return { stream: res.body!, offset: start ? Number(start[1]) : 0 };
  };
}
