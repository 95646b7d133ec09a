/**
 * The pack-store worker's download loop (workers/pack-store/download.ts) on a real HTTP server
 * (node:http) that stalls mid-file: the stall times out with a clear message, and the retry
 * resumes with a Range request, keeping the bytes already read, or starts over when the server
 * ignores Range.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PackInstallError } from '../workers/pack-store/errors.ts';
import { download, urlOpener } from '../workers/pack-store/download.ts';

const FILE = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** How the server answers the next requests: each stalls after `stallAfter` bytes (forever). */
let plan: { stallAfter: number | null; ranges: boolean; breaks?: boolean }[] = [];
const requests: (string | undefined)[] = [];
const open = new Set<http.ServerResponse>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.headers.range);
    const step = plan.shift() ?? { stallAfter: null, ranges: true };
    const range = step.ranges ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
    const start = range ? Number(range[1]) : 0;
    const body = FILE.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'content-length': String(body.byteLength),
      ...(step.ranges ? { 'accept-ranges': 'bytes' } : {}),
      ...(range
        ? { 'content-range': `bytes ${start}-${FILE.byteLength - 1}/${FILE.byteLength}` }
        : {}),
    });
    open.add(res);
    res.on('close', () => open.delete(res));
    if (step.stallAfter === null) res.end(body);
    else if (step.breaks)
      res.write(body.subarray(0, step.stallAfter), () => setTimeout(() => res.destroy(), 50));
    else res.write(body.subarray(0, step.stallAfter)); // and then nothing, connection left open
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`;
});
afterAll(async () => {
  for (const res of open) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function fetchFile(url: string, path: string, signal: AbortSignal, init?: RequestInit) {
  const res = await fetch(url, { ...init, signal });
  if (!res.ok) throw new PackInstallError('network', `${path}: HTTP ${res.status}`, path);
  return res;
}

/** Downloads into memory the way the installer writes into OPFS: at the offsets given. */
async function fetchAll(stallTimeoutMs: number, attempts = 4) {
  const out = new Uint8Array(FILE.byteLength);
  let restarts = 0;
  let received = 0;
  const bytes = await download(
    'unet/model.onnx',
    FILE.byteLength,
    urlOpener(base, 'unet/model.onnx', fetchFile),
    {
      chunk(chunk, at) {
        out.set(chunk, at);
        received += chunk.byteLength;
      },
      restart() {
        restarts++;
      },
    },
    { signal: new AbortController().signal, stallTimeoutMs, attempts },
  );
  return { out, bytes, restarts, received };
}

describe('pack file downloads', () => {
  it('resumes a stalled download with a Range request, keeping the bytes already read', async () => {
    requests.length = 0;
    plan = [{ stallAfter: 1024 * 1024, ranges: true }];
    const started = performance.now();
    const r = await fetchAll(500);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.bytes).toBe(FILE.byteLength);
    expect(sha(r.out)).toBe(sha(FILE));
    expect(r.restarts).toBe(0);
    expect(requests).toEqual([undefined, 'bytes=1048576-']);
    // Nothing fetched twice.
    expect(r.received).toBe(FILE.byteLength);
  });

  it('starts over when the server ignores Range', async () => {
    requests.length = 0;
    plan = [
      { stallAfter: 1024 * 1024, ranges: false },
      { stallAfter: null, ranges: false },
    ];
    const r = await fetchAll(500);
    expect(sha(r.out)).toBe(sha(FILE));
    expect(r.restarts).toBe(1);
    expect(requests).toEqual([undefined, 'bytes=1048576-']);
  });

  it('gives up after the last try with a message that says the download stalled', async () => {
    plan = [0, 1, 2].map(() => ({ stallAfter: 64 * 1024, ranges: true }));
    const failure = await fetchAll(300, 3).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PackInstallError);
    expect((failure as PackInstallError).code).toBe('network');
    expect((failure as Error).message).toMatch(
      /^unet\/model\.onnx: the download stalled \(no data for 0\.3 s after 0\.2 MB of 3\.0 MB, 3 tries\)/,
    );
  });

  it('fails at once, without waiting, when the connection breaks off', async () => {
    requests.length = 0;
    plan = [{ stallAfter: 1024 * 1024, ranges: true, breaks: true }];
    const failure = await fetchAll(60_000).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(
      /^unet\/model\.onnx: the download broke off after 1\.0 MB of 3\.0 MB .*Nothing was kept; try again\.$/,
    );
    expect(requests).toEqual([undefined]);
  });
});
