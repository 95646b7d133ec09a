/**
 * Builds the bench page (bench/index.html) with the app's own Vite config, so the page runs the
 * same worker bundle, ORT loader and headers as the app. Output goes under node_modules/.cache
 * (ignored); public/ is not copied: the bench server serves it in place.
 */
import path from 'node:path';
import { build } from 'vite';

export async function buildBenchPage(repoRoot: string, outDir: string): Promise<string> {
  await build({
    configFile: path.join(repoRoot, 'vite.config.ts'),
    root: repoRoot,
    publicDir: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      reportCompressedSize: false,
      // tfjs-backend-wasm starts its threads from the source text of a function (toString()), which
      // minification breaks ("e is not defined" in the pthread workers).
      minify: false,
      rollupOptions: { input: path.join(repoRoot, 'bench/index.html') },
    },
  });
  // Vite keeps the input's path relative to the root.
  return '/bench/index.html';
}
