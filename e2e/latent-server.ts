/**
 * Serves e2e/latent-harness.ts (bundled with Vite), onnxruntime-web's runtime files and pack
 * folders from one cross-origin-isolated local server, for the latent browser test and bench.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build, defaultClientConditions } from 'vite';
import { createStaticServer } from '../tools/serve.ts';
import { repoRoot } from '../test/helpers/shared.ts';

export interface LatentServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** Folder served at the root: put packs under it (or link them with addPack). */
  root: string;
  /** Serves `dir` at `<url>packs/<name>/`. */
  addPack(name: string, dir: string): Promise<string>;
  close(): Promise<void>;
}

export async function startLatentServer(): Promise<LatentServer> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gendr-latent-web-'));
  await symlink(path.join(repoRoot, 'node_modules/onnxruntime-web/dist'), path.join(root, 'ort'));
  await build({
    configFile: false,
    root: repoRoot,
    logLevel: 'warn',
    resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
    build: {
      outDir: path.join(root, 'harness'),
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      lib: {
        entry: path.join(repoRoot, 'e2e/latent-harness.ts'),
        formats: ['es'],
        fileName: 'harness',
      },
    },
  });
  await writeFile(
    path.join(root, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>latent harness</title><script type="module" src="/harness/harness.js"></script>',
  );
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(root, 'packs'));
  const server = createStaticServer({ root });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    root,
    async addPack(name, dir) {
      await symlink(path.resolve(dir), path.join(root, 'packs', name));
      return `packs/${name}/`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}
