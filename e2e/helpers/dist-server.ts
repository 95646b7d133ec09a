/**
 * The built app served by the production server (tools/serve.ts) from a folder of its own: links
 * to every entry of the build plus files a test adds or changes (embed-config.json, a new sw.js),
 * so a test can change what is deployed without touching the build that other tests use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { createStaticServer } from '../../tools/serve.ts';
import { repoRoot } from '../../test/helpers/shared.ts';

export const distDir = process.env.GENDR_DIST
  ? path.resolve(process.env.GENDR_DIST)
  : path.join(repoRoot, 'dist');

export interface DistServer {
  origin: string;
  root: string;
  /** Adds or replaces a file of the deployment (a real file, no longer a link). */
  writeFile(rel: string, content: string | Buffer): void;
  /** Stops serving (the network is gone for this origin); start() serves again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function serveDist(port: number): Promise<DistServer> {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(`no build in ${distDir}: run \`npx vite build\` (and set GENDR_DIST) first`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-deploy-'));
  for (const entry of fs.readdirSync(distDir)) {
    fs.symlinkSync(path.join(distDir, entry), path.join(root, entry));
  }
  let server: http.Server | null = null;
  const start = async () => {
    server = createStaticServer({ root });
    await new Promise<void>((resolve) => server!.listen(port, 'localhost', resolve));
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await start();
  return {
    origin: `http://localhost:${port}`,
    root,
    writeFile(rel, content) {
      const file = path.join(root, rel);
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, content);
    },
    stop,
    start,
    async close() {
      await stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
