/**
 * Smoke test of `npm run bench:gpu` (bench/gpu/bench.ts) with the tiny pack: on onnxruntime-node,
 * and on onnxruntime-web's WebGPU EP under Node on Dawn (tools/runtime/ort-web-node-webgpu.ts),
 * which skips with a message where Dawn finds no adapter. Without VK_ICD_FILENAMES set, Chromium's
 * SwiftShader Vulkan driver is used where it is installed (Mesa's lavapipe lacks a feature Dawn
 * needs).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatGpuBench, runGpuBench } from '../bench/gpu/bench.ts';
import { probeNodeWebGpu } from '../tools/runtime/ort-web-node-webgpu.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
}
const adapter = await probeNodeWebGpu().catch((e: Error) => {
  console.warn(`bench:gpu WebGPU smoke test skipped: ${e.message}`);
  return null;
});

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

  it.skipIf(!adapter)(
    'restores on onnxruntime-web WebGPU under Node (Dawn) with adapter, GPU memory and parity',
    async () => {
      // SwiftShader runs WebGPU 100-500x slower than WASM: the smallest input.
      const r = await runGpuBench({ runtime: 'webgpu', size: 16, paritySize: 16, threads: 2 });
      const text = formatGpuBench(r);
      console.log(text);
      expect(r.runtime).toBe('webgpu (webgpu)');
      expect(r.output).toBe('64x64');
      expect(r.stages.find((s) => s.stage === 'unet')?.runs).toBe(1);
      expect(r.gpu?.adapter.description).toBe(adapter!.description);
      expect(r.gpu!.peakBytes).toBeGreaterThan(0);
      expect(r.gpu!.peakBytes).toBeGreaterThanOrEqual(r.gpu!.afterLoadBytes);
      expect(r.parityDb).toBeGreaterThanOrEqual(50);
      expect(text).toMatch(/adapter: /);
      expect(text).toMatch(/GPU buffers: .* MiB peak/);
    },
    600_000,
  );

  it('says which runtimes are wired', async () => {
    await expect(runGpuBench({ runtime: 'webnn', size: 8 })).rejects.toThrow(/'webgpu'/);
  });
});
