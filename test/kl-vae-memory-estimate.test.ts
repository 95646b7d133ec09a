/**
 * estimatePackMemory (engine/latent/memory-estimate.ts): weights as held plus the largest tile
 * activation, and the WASM refusal over 4 GiB; with a segmented KL VAE, its tiled runs' outputs
 * and its untiled mid graphs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import { parsePackManifest, type PackManifest } from '../engine/latent/manifest.ts';
import {
  estimatePackMemory,
  segmentedBytesPerPixel,
  WASM_HEAP_BYTES,
} from '../engine/latent/memory-estimate.ts';
import { resolveTiling } from '../engine/latent/tiling-plan.ts';
import { writeTinySdPack } from './helpers/sd-tiny.ts';

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

describe('estimatePackMemory with a segmented KL VAE', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kl-estimate-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts every norm input a tiled run returns, and the untiled mid graphs for an image', () => {
    const m = writeTinySdPack(dir, { seed: 2 });
    const seg = m.vae.segmentedDecoder!;
    const tiling = resolveTiling(m, { decoder: { tile: 32 }, encoder: { tile: 256 } });
    const noSeg = parsePackManifest({
      ...m,
      vae: { ...m.vae, segmentedDecoder: undefined, segmentedEncoder: undefined },
    });
    const plain = estimatePackMemory(noSeg, 'wasm', tiling);
    const e = estimatePackMemory(m, 'wasm', tiling);
    // The segmented graphs are loaded too.
    expect(e.weightsBytes).toBeGreaterThan(plain.weightsBytes);
    const perPixel = segmentedBytesPerPixel(seg.norms);
    const values = seg.norms.map((n) => n.channels * n.scale ** 2);
    expect(perPixel).toBe(4 * (values.reduce((a, b) => a + b) + Math.max(...values)));
    expect(e.activationBytes).toBeGreaterThanOrEqual(32 * 32 * perPixel);
    // The mid graphs' attention is quadratic in the latent: 4× the pixels, ≥ 16× the scores.
    const small = estimatePackMemory(m, 'wasm', tiling, { width: 256, height: 256 });
    const big = estimatePackMemory(m, 'wasm', tiling, { width: 512, height: 512 });
    expect(small.activationBytes).toBeGreaterThan(e.activationBytes);
    expect(big.activationBytes).toBeGreaterThan(15 * small.activationBytes);
  });
});
