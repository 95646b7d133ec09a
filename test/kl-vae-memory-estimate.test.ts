/**
 * estimatePackMemory (engine/latent/memory-estimate.ts): weights as held plus the largest tile
 * activation, and the WASM refusal over 4 GiB.
 */
import { describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import { parsePackManifest, type PackManifest } from '../engine/latent/manifest.ts';
import { estimatePackMemory, WASM_HEAP_BYTES } from '../engine/latent/memory-estimate.ts';
import { resolveTiling } from '../engine/latent/tiling-plan.ts';

const tiny: PackManifest = manifestFor(tinyGendrPack());

/** The tiny pack with its files claiming `bytes` each and the given precision. */
function sized(bytes: number, precision: 'fp32' | 'fp16'): PackManifest {
  const copy = structuredClone(tiny);
  for (const f of Object.values(copy.files)) f.bytes = bytes;
  copy.precision = precision;
  return parsePackManifest(copy);
}

describe('estimatePackMemory', () => {
  const tiling = resolveTiling(tiny, undefined);

  it('adds every loaded file and the largest activation of the tiles', () => {
    const e = estimatePackMemory(tiny, 'wasm', tiling);
    const files = Object.values(tiny.files).reduce((s, f) => s + f.bytes, 0);
    expect(e.weightsBytes).toBe(files);
    // Default tiles (no memory figures in the tiny manifest): the UNet's 96-px tile's attention
    // scores (96⁴ token pairs × 20 bytes) outweigh the decoder's 64² × 64 KiB and the encoder's.
    expect(tiny.memory).toBeUndefined();
    expect(e.activationBytes).toBe(Math.max(96 ** 4 * 20, 64 * 64 * 64 * 1024, 512 * 512 * 1024));
    expect(e.totalBytes).toBe(e.weightsBytes + e.activationBytes);
    expect(e.refusal).toBeUndefined();
    // Smaller tiles, smaller activation.
    const small = resolveTiling(tiny, { unet: { tile: 48, overlap: 16 } });
    expect(estimatePackMemory(tiny, 'wasm', small).activationBytes).toBeLessThan(e.activationBytes);
  });

  it('counts fp16 weights twice where the CPU kernels upcast them, and halves fp16 activations on WebGPU', () => {
    const m = sized(100 * 1024 ** 2, 'fp16');
    const gpu = estimatePackMemory(m, 'webgpu', tiling);
    const wasm = estimatePackMemory(m, 'wasm', tiling);
    expect(wasm.weightsBytes).toBe(2 * gpu.weightsBytes);
    expect(gpu.activationBytes).toBe(wasm.activationBytes / 2);
  });

  it('refuses over 4 GiB on WASM only, naming WebGPU with shader-f16', () => {
    const m = sized(1024 ** 3, 'fp16');
    const wasm = estimatePackMemory(m, 'wasm', tiling);
    expect(wasm.totalBytes).toBeGreaterThan(WASM_HEAP_BYTES);
    expect(wasm.refusal).toMatch(/more than the 4 GB/);
    expect(wasm.refusal).toMatch(/WebGPU/);
    expect(wasm.refusal).toMatch(/shader-f16/);
    expect(estimatePackMemory(m, 'webgpu', tiling).refusal).toBeUndefined();
  });
});
