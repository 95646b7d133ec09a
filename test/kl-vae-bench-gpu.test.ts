/** Smoke test of `npm run bench:gpu` (bench/gpu/bench.ts) on the CPU with the tiny pack. */
import { describe, expect, it } from 'vitest';
import { formatGpuBench, runGpuBench } from '../bench/gpu/bench.ts';

describe('bench:gpu', () => {
  it('restores through the engine on onnxruntime-node and reports stages and parity', async () => {
    const r = await runGpuBench({ runtime: 'node', size: 24, threads: 2 });
    const text = formatGpuBench(r);
    console.log(text);
    expect(r.input).toBe('24x24');
    expect(r.output).toBe('96x96');
    expect(r.stages.map((s) => s.stage)).toEqual([
      'prepare',
      'encode',
      'unet',
      'decode',
      'colorfix',
    ]);
    expect(r.totalMs).toBeGreaterThan(0);
    expect(r.parityDb).toBeGreaterThanOrEqual(50);
    expect(text).toMatch(/decode/);
  }, 120_000);

  it('says which runtimes are wired', async () => {
    await expect(runGpuBench({ runtime: 'webgpu', size: 8 })).rejects.toThrow(/only 'node'/);
  });
});
