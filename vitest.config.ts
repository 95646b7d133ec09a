import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real models on 2 cores: run files one after another so timings stay sane.
    fileParallelism: false,
  },
});
