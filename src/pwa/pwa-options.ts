/**
 * Build-side configuration of the PWA (vite-plugin-pwa, Workbox generateSW), used by
 * vite.config.ts. The service worker precaches the app shell, onnxruntime-web's runtime files
 * (.mjs glue and both .wasm builds) and every built-in model, so the app works offline after the
 * first visit. Installed model packs live in their own store (OPFS), not here.
 *
 * Cross-origin isolation offline: Workbox stores each response as the server sent it, headers
 * included, so pages, workers and .wasm served from the cache keep COOP/COEP/CORP and the page
 * stays crossOriginIsolated with no network (tested in e2e/offline-pwa.spec.ts).
 */
import type { VitePWAOptions } from 'vite-plugin-pwa';

/** The largest precached files are the WebGPU runtime (26.8 MB) and esrgan-thick (29 MB). */
export const MAX_PRECACHE_FILE_BYTES = 64 * 1024 * 1024;

export const THEME_COLOR = '#4f46e5';

export function pwaOptions(): Partial<VitePWAOptions> {
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
      globPatterns: ['**/*.{html,js,mjs,css,svg,png,ico,webmanifest,wasm,onnx,json}'],
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
          urlPattern: ({ url }) => url.pathname.endsWith('/embed-config.json'),
          handler: 'NetworkFirst',
          options: { cacheName: 'gendr-config', networkTimeoutSeconds: 3 },
        },
      ],
    },
    devOptions: { enabled: false },
  };
}
