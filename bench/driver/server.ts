/**
 * The bench's static server: cross-origin isolated (COOP/COEP, so WASM threads work), serving the
 * built bench page, the app's public/ folder (models, ORT runtime files), the bench inputs and
 * model variants, and the peer's files from node_modules: tfjs-backend-wasm's .wasm files and the
 * UpscalerJS ESRGAN models, whose weight shards are merged into one file per model (tfjs waits for
 * every shard before reading any, and Chromium opens 6 HTTP/1.1 connections per host, so
 * esrgan-thick's 7 shards would never load).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../tools/serve.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.css': 'text/css; charset=utf-8',
};

export interface BenchServerOptions {
  repoRoot: string;
  /** The built bench page (Vite output). */
  pageDir: string;
  /** Inputs and model variants written by the driver. */
  dataDir: string;
}

/** URL prefix -> folder. The first match wins. */
function mounts(o: BenchServerOptions): [string, string][] {
  const nm = path.join(o.repoRoot, 'node_modules');
  return [
    ['/models/', path.join(o.repoRoot, 'public/models')],
    ['/ort/', path.join(o.repoRoot, 'public/ort')],
    ['/data/', o.dataDir],
    ['/peer/tfjs-backend-wasm/', path.join(nm, '@tensorflow/tfjs-backend-wasm/dist')],
    ['/', o.pageDir],
  ];
}

function inside(root: string, rel: string): string | null {
  const file = path.resolve(root, `.${path.posix.normalize(`/${rel}`)}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

interface TfjsManifest {
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  [key: string]: unknown;
}

/** An UpscalerJS model.json with its weight groups merged into one file, and that file. */
async function peerModel(
  repoRoot: string,
  family: string,
  scale: string,
): Promise<{ json: string; weights: Buffer }> {
  const dir = path.join(repoRoot, 'node_modules/@upscalerjs', family, 'models', `x${scale}`);
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as TfjsManifest;
  const parts: Buffer[] = [];
  for (const group of manifest.weightsManifest) {
    for (const p of group.paths) parts.push(await readFile(path.join(dir, p)));
  }
  const merged = {
    ...manifest,
    weightsManifest: [
      { paths: ['weights.bin'], weights: manifest.weightsManifest.flatMap((g) => g.weights) },
    ],
  };
  return { json: JSON.stringify(merged), weights: Buffer.concat(parts) };
}

export async function startBenchServer(
  o: BenchServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const peerCache = new Map<string, Promise<{ json: string; weights: Buffer }>>();
  const server = http.createServer(async (req, res) => {
    for (const [k, v] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) res.setHeader(k, v);
    res.setHeader('Cache-Control', 'no-store');
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const peer = /^\/peer\/(esrgan-(?:slim|medium|thick))\/x(\d)\/(model\.json|weights\.bin)$/.exec(
      urlPath,
    );
    try {
      if (peer) {
        const [, family, scale, file] = peer;
        const key = `${family}/${scale}`;
        if (!peerCache.has(key)) peerCache.set(key, peerModel(o.repoRoot, family, scale));
        const model = await peerCache.get(key)!;
        const body = file === 'model.json' ? model.json : model.weights;
        res.writeHead(200, {
          'Content-Type': file === 'model.json' ? TYPES['.json'] : 'application/octet-stream',
        });
        res.end(body);
        return;
      }
      for (const [prefix, root] of mounts(o)) {
        if (!urlPath.startsWith(prefix)) continue;
        let file = inside(root, urlPath.slice(prefix.length));
        if (!file) break;
        let info = await stat(file).catch(() => null);
        if (info?.isDirectory()) {
          file = path.join(file, 'index.html');
          info = await stat(file).catch(() => null);
        }
        if (!info?.isFile()) continue;
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'Content-Length': info.size,
        });
        createReadStream(file).pipe(res);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
