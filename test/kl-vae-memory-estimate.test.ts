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
import {
  autoTiling,
  resolveTiling,
  SEGMENTED_RUN_BUDGET_BYTES,
} from '../engine/latent/tiling-plan.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import {
  buildSegmentedVaeDecoder,
  buildSegmentedVaeEncoder,
} from '../tools/builder/architectures/sd-vae/segmented.ts';
import { presetVaeConfig } from '../tools/builder/presets/index.ts';
import { RandomWeightSource } from '../tools/builder/random-weights.ts';
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
    // A whole mid graph's attention (packs built before chunkedMid) is quadratic in the latent:
    // 4× the pixels, ≥ 16× the scores.
    const wholeMid = parsePackManifest({
      ...m,
      vae: {
        ...m.vae,
        segmentedDecoder: { ...seg, chunkedMid: undefined, mid: seg.chunkedMid!.pre },
        segmentedEncoder: undefined,
      },
    });
    const small = estimatePackMemory(wholeMid, 'wasm', tiling, { width: 256, height: 256 });
    const big = estimatePackMemory(wholeMid, 'wasm', tiling, { width: 512, height: 512 });
    expect(small.activationBytes).toBeGreaterThan(e.activationBytes);
    expect(big.activationBytes).toBeGreaterThan(15 * small.activationBytes);
    // In query chunks it is linear once the scores reach the chunk budget (a 64² latent here).
    const at = (w: number) =>
      estimatePackMemory(m, 'wasm', tiling, { width: w, height: w }).activationBytes;
    expect(at(4096)).toBeLessThan(5 * at(2048));
    expect(at(4096)).toBeLessThan(big.activationBytes * 4);
  });

  it('automatic tiles keep what a segmented run returns within the budget (GenDR VAE16 on WASM)', () => {
    // VAE16's segmented norms (graphs built in memory, never written: weights stay lazy) on the
    // tiny pack's manifest, without its UNet and tiling.
    const m = writeTinySdPack(path.join(dir, 'vae16-norms'), { seed: 2 });
    const plan = planVae(presetVaeConfig('gendr'));
    const weights = new RandomWeightSource(vaeTensorSpecs(plan), 1);
    const opts = { precision: 'fp32', form: 'plain' } as const;
    const dec = buildSegmentedVaeDecoder(plan, weights, opts);
    const enc = buildSegmentedVaeEncoder(plan, weights, opts);
    const vae16 = parsePackManifest({
      ...m,
      unet: undefined,
      tiling: undefined,
      vae: {
        ...m.vae,
        downscaleFactor: 8,
        segmentedDecoder: { ...m.vae.segmentedDecoder!, norms: dec.norms, reach: dec.reach },
        segmentedEncoder: { ...m.vae.segmentedEncoder!, norms: enc.norms, reach: enc.reach },
      },
    });
    // The restore worker's WASM limits by default (workers/restore/packs/pack-limits.ts).
    const wasm = { maxBufferBytes: 512 * 1024 ** 2 };
    const plainTiles = autoTiling(
      parsePackManifest({
        ...vae16,
        vae: { ...vae16.vae, segmentedDecoder: undefined, segmentedEncoder: undefined },
      }),
      wasm,
    );
    const t = autoTiling(vae16, wasm);
    const decPerPixel = segmentedBytesPerPixel(dec.norms);
    const encPerPixel = segmentedBytesPerPixel(enc.norms);
    console.log(
      `VAE16 automatic WASM tiles: decoder ${t.decoder.tile} latent px (${Math.round((t.decoder.tile ** 2 * decPerPixel) / 2 ** 20)} MiB returned per run; ` +
        `${plainTiles.decoder.tile} px without the segmented budget: ${Math.round((plainTiles.decoder.tile ** 2 * decPerPixel) / 2 ** 20)} MiB), ` +
        `encoder ${t.encoder.tile} px (${Math.round((t.encoder.tile ** 2 * encPerPixel) / 2 ** 20)} MiB; ${plainTiles.encoder.tile} px without)`,
    );
    // The largest-buffer rule alone gives 88 latent px: 2.6 GiB of norm inputs returned by one
    // up-graph run.
    expect(plainTiles.decoder.tile).toBe(88);
    expect(plainTiles.decoder.tile ** 2 * decPerPixel).toBeGreaterThan(2.5 * 1024 ** 3);
    expect(t.decoder.tile ** 2 * decPerPixel).toBeLessThanOrEqual(SEGMENTED_RUN_BUDGET_BYTES);
    expect((t.decoder.tile + 8) ** 2 * decPerPixel).toBeGreaterThan(SEGMENTED_RUN_BUDGET_BYTES);
    expect(t.decoder.tile).toBeGreaterThan(2 * dec.reach);
    expect(t.encoder.tile ** 2 * encPerPixel).toBeLessThanOrEqual(SEGMENTED_RUN_BUDGET_BYTES);
    expect(t.encoder.tile).toBeLessThan(plainTiles.encoder.tile);
    // A smaller device budget (fault recovery) shrinks the tile further.
    const small = autoTiling(vae16, { maxBufferBytes: 128 * 1024 ** 2 });
    expect(small.decoder.tile).toBeLessThan(t.decoder.tile);
    // The whole run's estimate for a 1024² image stays under 1 GiB of activations: the tiles, and
    // the chunked mid graphs (the whole-latent attention alone would be 2 GiB).
    const e = estimatePackMemory(vae16, 'wasm', resolveTiling(vae16, undefined, wasm), {
      width: 1024,
      height: 1024,
    });
    expect(e.activationBytes).toBeLessThan(1024 ** 3);
  });
});
