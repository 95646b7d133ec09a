/**
 * Production static server for the built app (dist/): `npm start` runs it after the build.
 *
 * Every response carries the cross-origin isolation headers (COOP same-origin, COEP require-corp,
 * CORP same-origin), so the page and its workers are crossOriginIsolated and onnxruntime-web can
 * use WASM threads (SharedArrayBuffer). Port: $PORT or 4173; host: $HOST or localhost.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface ServeOptions {
  /** The folder to serve (dist/). */
  root: string;
}

/** Resolves a URL path inside root, or null if it escapes it. */
function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function cacheControl(urlPath: string): string {
  // Vite fingerprints everything under /assets/; the rest (index.html, models, ORT) revalidates.
  return urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

export function createStaticServer(options: ServeOptions): http.Server {
  const root = path.resolve(options.root);
  return http.createServer(async (req, res) => {
    for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS))
      res.setHeader(name, value);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const send = (status: number, text: string) => {
      res
        .writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(req.method === 'HEAD' ? '' : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(405, 'method not allowed');
    }
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file = resolveInside(root, urlPath);
    if (!file) return send(400, 'bad path');
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info?.isFile()) return send(404, 'not found');
    // Pages may be embedded (`?embed`, docs/embed.md), also by cross-origin-isolated pages, whose
    // COEP only lets in frames that opt in: documents say CORP cross-origin, everything else keeps
    // same-origin (the embedded page loads its own scripts, .wasm and models as same-origin).
    if (path.extname(file).toLowerCase() === '.html') {
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', info.mtime.toUTCString());
    res.setHeader('Cache-Control', cacheControl(urlPath));
    if (req.headers['if-none-match'] === etag) return res.writeHead(304).end();
    res.writeHead(200, {
      'Content-Type': MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': info.size,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
}

async function main(): Promise<void> {
  // GENDR_DIST lets parallel test runs serve their own build folder.
  const root = process.env.GENDR_DIST
    ? path.resolve(process.env.GENDR_DIST)
    : fileURLToPath(new URL('../dist', import.meta.url));
  const indexInfo = await stat(path.join(root, 'index.html')).catch(() => null);
  if (!indexInfo) {
    console.error(
      `No build found in ${root}: run \`npm run build\` first (or \`npm start\`, which builds).`,
    );
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 4173);
  const host = process.env.HOST ?? 'localhost';
  const server = createStaticServer({ root });
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `Port ${port} is in use: set PORT to another one.`
        : `Server error: ${error.message}`,
    );
    process.exit(1);
  });
  server.listen(port, host, () => {
    console.log(
      `GenDR Web is running at http://${host}:${port}/ (cross-origin isolated; Ctrl+C stops it)`,
    );
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
