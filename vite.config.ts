import { readFileSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { pwaOptions } from './src/pwa/pwa-options.ts';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from './tools/serve.ts';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * onnxruntime-web's runtime files (glue .mjs + .wasm) for the two builds the worker imports:
 * `onnxruntime-web/wasm` (plain) and `onnxruntime-web/webgpu` (asyncify). They are copied into
 * public/ort/ (git-ignored), so the dev server serves them and the build puts them in dist/ort/;
 * the worker points ort.env.wasm.wasmPaths there. Never a CDN.
 */
const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

function ortRuntimeFiles(): Plugin {
  const from = path.join(root, 'node_modules/onnxruntime-web/dist');
  const to = path.join(root, 'public/ort');
  return {
    name: 'gendr:ort-runtime-files',
    async configResolved() {
      await mkdir(to, { recursive: true });
      for (const name of ORT_FILES) {
        const source = await stat(path.join(from, name));
        const target = await stat(path.join(to, name)).catch(() => null);
        if (target?.size === source.size && target.mtimeMs >= source.mtimeMs) continue;
        await copyFile(path.join(from, name), path.join(to, name));
      }
    },
  };
}

/** Fails the build early, with a clear message, when the built-in models were not generated. */
function requireModels(): Plugin {
  return {
    name: 'gendr:require-models',
    apply: 'build',
    async buildStart() {
      const index = path.join(root, 'public/models/index.json');
      if (!(await stat(index).catch(() => null))) {
        this.error(`${index} is missing: run \`npm run models\` first.`);
      }
    },
  };
}

/** The built-in models the first visit precaches: the default one (the CPU default path). */
function precachedModels(): string[] {
  try {
    const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8')) as {
      default?: string;
    };
    return index.default ? [index.default] : [];
  } catch {
    return [];
  }
}

export default defineConfig({
  // VitePWA: web app manifest + a Workbox service worker (src/pwa/pwa-options.ts).
  plugins: [react(), ortRuntimeFiles(), requireModels(), VitePWA(pwaOptions(precachedModels()))],
  resolve: {
    // Pick ORT's builds that load their .mjs/.wasm from ort.env.wasm.wasmPaths, instead of the
    // "bundle" builds that make Vite emit a second copy of each .wasm under assets/.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  server: { headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS } },
  preview: { headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS }, port: 4173 },
  build: {
    target: 'es2022',
    // onnxruntime-web's JS is large by nature; the models and .wasm are separate files anyway.
    chunkSizeWarningLimit: 1024,
  },
});
