/**
 * Build-side configuration of the PWA (vite-plugin-pwa, Workbox generateSW), used by
 * vite.config.ts. The service worker precaches what the default path needs: the app shell, the
 * CPU kernels, onnxruntime-web's WASM build and the default model. Every other model and the
 * WebGPU runtime are cached when first used (cache MODEL_CACHE), and "Make all models available
 * offline" (src/pwa/offline-models.ts) fetches the rest into the same cache on request. Installed
 * model packs live in their own store (OPFS), not here.
 *
 * Cross-origin isolation offline: Workbox stores each response as the server sent it, headers
 * included, so pages, workers and .wasm served from the cache keep COOP/COEP/CORP and the page
 * stays crossOriginIsolated with no network (tested in e2e/offline-pwa.spec.ts).
 */
import type { VitePWAOptions } from 'vite-plugin-pwa';

/** The largest precached files are the WebGPU runtime (26.8 MB) and esrgan-thick (29 MB). */
export const MAX_PRECACHE_FILE_BYTES = 64 * 1024 * 1024;

export const THEME_COLOR = '#4f46e5';

/** The runtime cache of models and runtime files fetched after the first visit. */
export const MODEL_CACHE = 'gendr-models';

/** Files cached on first use: every model file and onnxruntime-web's files. */
export function cachedOnFirstUse(pathname: string): boolean {
  return /\/models\/[^/]+\/[^/]+\.onnx(_data)?$/.test(pathname) || /\/ort\/[^/]+$/.test(pathname);
}

/** @param precachedModels the built-in models the first visit precaches (the default path). */
export function pwaOptions(precachedModels: readonly string[]): Partial<VitePWAOptions> {
  return {
    strategies: 'generateSW',
    // A new version waits until the user accepts it (src/pwa/register-sw.ts), never mid-restore.
    registerType: 'prompt',
    injectRegister: false,
    filename: 'sw.js',
    manifestFilename: 'manifest.webmanifest',
    includeAssets: ['favicon.svg', 'icons/apple-touch-icon.png', 'icons/icon.svg'],
    manifest: {
      name: 'GenDR Web',
      short_name: 'GenDR',
      description:
        'Photo super-resolution that runs entirely in your browser, on WebGPU or WebAssembly. Works offline.',
      id: '/',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      background_color: '#0f1117',
      theme_color: THEME_COLOR,
      categories: ['photo', 'utilities'],
      icons: [
        { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
      ],
    },
    workbox: {
      globPatterns: [
        '*.{html,js,svg,png,ico,webmanifest,json}',
        'assets/**/*.{js,mjs,css,svg,png,wasm}',
        'icons/**/*',
        'models/*.json',
        'models/*/manifest.json',
        // The fp32 model only: the fp16 variant runs on WebGPU, and is cached when first used.
        ...precachedModels.map((id) => `models/${id}/model.onnx`),
        // The WASM runtime (onnxruntime-web, for what the kernels cannot run); not WebGPU's.
        'ort/ort-wasm-simd-threaded.{mjs,wasm}',
      ],
      // The embed configuration is read fresh from the network (cached only as a fallback).
      globIgnores: ['embed-config.json', '**/README.md'],
      maximumFileSizeToCacheInBytes: MAX_PRECACHE_FILE_BYTES,
      // Vite fingerprints assets/: no revision query needed for those.
      dontCacheBustURLsMatching: /^assets\//,
      // Every navigation (also /?embed) gets the precached app shell.
      navigateFallback: 'index.html',
      navigateFallbackDenylist: [/^\/(assets|models|ort|icons)\//, /\.[a-z0-9]+$/i],
      cleanupOutdatedCaches: true,
      // The first install takes over the open page; later versions wait for the user.
      clientsClaim: true,
      skipWaiting: false,
      runtimeCaching: [
        {
          // Responses are stored with their headers, so COEP/CORP hold offline too. Workbox
          // copies this function's source into sw.js: it must not refer to anything outside it
          // (it is cachedOnFirstUse, inlined; test/pwa-options.test.ts checks they agree).
          urlPattern: ({ url }) =>
            /\/models\/[^/]+\/[^/]+\.onnx(_data)?$/.test(url.pathname) ||
            /\/ort\/[^/]+$/.test(url.pathname),
          handler: 'CacheFirst',
          options: { cacheName: MODEL_CACHE, cacheableResponse: { statuses: [200] } },
        },
        {
          urlPattern: ({ url }) => url.pathname.endsWith('/embed-config.json'),
          handler: 'NetworkFirst',
          options: { cacheName: 'gendr-config', networkTimeoutSeconds: 3 },
        },
      ],
    },
    devOptions: { enabled: false },
  };
}
