/**
 * The service worker's build options: the first visit precaches the default path only, and the
 * runtime-cache route (whose source Workbox copies into sw.js, so it must stand alone) matches
 * exactly the files cachedOnFirstUse names.
 */
import { describe, expect, it } from 'vitest';
import { cachedOnFirstUse, pwaOptions } from '../src/pwa/pwa-options.ts';

describe('PWA options', () => {
  const options = pwaOptions(['realesr-general-x4v3']);
  const route = options.workbox!.runtimeCaching![0];
  const match = route.urlPattern as (o: { url: URL }) => boolean;

  it('the runtime route agrees with cachedOnFirstUse and refers to nothing outside itself', () => {
    const paths = [
      '/models/esrgan-thick-x4/model.onnx',
      '/models/x/model.onnx_data',
      '/ort/ort-wasm-simd-threaded.asyncify.wasm',
      '/models/index.json',
      '/assets/index-abc.js',
      '/',
    ];
    for (const p of paths) {
      expect(match({ url: new URL(p, 'https://app.example') })).toBe(cachedOnFirstUse(p));
    }
    // As Workbox serialises it: a standalone function.
    const standalone = new Function(`return (${String(match)})`)() as typeof match;
    expect(standalone({ url: new URL('https://app.example/models/a/model.onnx') })).toBe(true);
  });

  it('precaches the default model only, and onnxruntime-web’s WASM build but not WebGPU’s', () => {
    const patterns = options.workbox!.globPatterns!;
    expect(patterns.filter((p) => p.includes('.onnx'))).toEqual([
      'models/realesr-general-x4v3/model.onnx',
    ]);
    expect(patterns).toContain('ort/ort-wasm-simd-threaded.{mjs,wasm}');
    expect(patterns.some((p) => p.includes('asyncify'))).toBe(false);
  });
});
