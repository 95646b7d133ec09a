import fs from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Node 20's V8 has relaxed SIMD behind a flag (Chromium ships it): pass the flag where the
 * committed relaxed-SIMD kernels do not validate, so test/bench-kernels.test.ts runs both builds.
 */
function relaxedSimdFlag(): string[] {
  const wasm = fs.readFileSync(
    new URL('./engine/kernels/wasm/kernels-relaxed.wasm', import.meta.url),
  );
  return WebAssembly.validate(wasm) ? [] : ['--experimental-wasm-relaxed-simd'];
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real models on 2 cores: run files one after another so timings stay sane.
    fileParallelism: false,
    execArgv: relaxedSimdFlag(),
  },
});
