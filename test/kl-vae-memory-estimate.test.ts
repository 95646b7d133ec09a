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
  SEGMENTED_WORKING_ACTIVATIONS,
  WASM_HEAP_BYTES,
} from '../engine/latent/memory-estimate.ts';
import {
  autoTiling,
  resolveTiling,
  SEGMENTED_MOMENTS_BUDGET_BYTES,
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
    const built = writeTinySdPack(dir, { seed: 2 });
    expect(built.vae.segmentedDecoder?.stats).toBe('core-moments');
    expect(built.vae.segmentedEncoder?.stats).toBe('core-moments');
    const tiles = resolveTiling(built, { decoder: { tile: 32 }, encoder: { tile: 256 } });
    // The older 'input' form (packs built before core moments): every norm's input returned.
    const m = parsePackManifest({
      ...built,
      vae: {
        ...built.vae,
        segmentedDecoder: { ...built.vae.segmentedDecoder!, stats: undefined },
        segmentedEncoder: { ...built.vae.segmentedEncoder!, stats: undefined },
      },
    });
    const seg = m.vae.segmentedDecoder!;
    // The core-moments form holds only its working set.
    const moments = estimatePackMemory(built, 'wasm', tiles).activationBytes;
    expect(moments).toBeLessThanOrEqual(estimatePackMemory(m, 'wasm', tiles).activationBytes);
    expect(segmentedBytesPerPixel(seg.norms, 4, 'core-moments')).toBeLessThan(
      segmentedBytesPerPixel(seg.norms),
    );
    const largest = Math.max(...seg.norms.map((n) => n.channels * n.scale ** 2));
    expect(segmentedBytesPerPixel(seg.norms, 4, 'core-moments')).toBe(
      4 * SEGMENTED_WORKING_ACTIVATIONS * largest,
    );
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
    const withStats = (stats: 'core-moments' | undefined) =>
      parsePackManifest({
        ...m,
        unet: undefined,
        tiling: undefined,
        vae: {
          ...m.vae,
          downscaleFactor: 8,
          segmentedDecoder: {
            ...m.vae.segmentedDecoder!,
            norms: dec.norms,
            reach: dec.reach,
            stats,
          },
          segmentedEncoder: {
            ...m.vae.segmentedEncoder!,
            norms: enc.norms,
            reach: enc.reach,
            stats,
          },
        },
      });
    const vae16 = withStats('core-moments');
    const vae16Input = withStats(undefined);
    // The restore worker's WASM limits by default (workers/restore/packs/pack-limits.ts).
    const wasm = { maxBufferBytes: 512 * 1024 ** 2 };
    const plainTiles = autoTiling(
      parsePackManifest({
        ...vae16,
        vae: { ...vae16.vae, segmentedDecoder: undefined, segmentedEncoder: undefined },
      }),
      wasm,
    );
    const old = autoTiling(vae16Input, wasm);
    const t = autoTiling(vae16, wasm);
    const decPerPixel = segmentedBytesPerPixel(dec.norms);
    const encPerPixel = segmentedBytesPerPixel(enc.norms);
    const decWorking = segmentedBytesPerPixel(dec.norms, 4, 'core-moments');
    const encWorking = segmentedBytesPerPixel(enc.norms, 4, 'core-moments');
    const mib = (b: number) => Math.round(b / 2 ** 20);
    console.log(
      `VAE16 automatic WASM tiles: core moments: decoder ${t.decoder.tile} latent px (${mib(t.decoder.tile ** 2 * decWorking)} MiB working set), ` +
        `encoder ${t.encoder.tile} px (${mib(t.encoder.tile ** 2 * encWorking)} MiB); ` +
        `whole-input form: decoder ${old.decoder.tile} px (${mib(old.decoder.tile ** 2 * decPerPixel)} MiB returned per run; ` +
        `${plainTiles.decoder.tile} px without the segmented budget: ${mib(plainTiles.decoder.tile ** 2 * decPerPixel)} MiB), ` +
        `encoder ${old.encoder.tile} px (${mib(old.encoder.tile ** 2 * encPerPixel)} MiB; ${plainTiles.encoder.tile} px without)`,
    );
    // The largest-buffer rule alone gives 88 latent px: 2.6 GiB of norm inputs returned by one
    // up-graph run of the whole-input form, which its budget shrinks.
    expect(plainTiles.decoder.tile).toBe(88);
    expect(plainTiles.decoder.tile ** 2 * decPerPixel).toBeGreaterThan(2.5 * 1024 ** 3);
    expect(old.decoder.tile ** 2 * decPerPixel).toBeLessThanOrEqual(SEGMENTED_RUN_BUDGET_BYTES);
    expect((old.decoder.tile + 8) ** 2 * decPerPixel).toBeGreaterThan(SEGMENTED_RUN_BUDGET_BYTES);
    expect(old.decoder.tile).toBeGreaterThan(2 * dec.reach);
    expect(old.encoder.tile ** 2 * encPerPixel).toBeLessThanOrEqual(SEGMENTED_RUN_BUDGET_BYTES);
    expect(old.encoder.tile).toBeLessThan(plainTiles.encoder.tile);
    // Core moments: the working set alone bounds the tile, within its budget (48 px for VAE16's
    // decoder, the largest whose renderer peak stayed under 2 GB in bench/kl-vae-memory.ts).
    expect(t.decoder.tile ** 2 * decWorking).toBeLessThanOrEqual(SEGMENTED_MOMENTS_BUDGET_BYTES);
    expect((t.decoder.tile + 8) ** 2 * decWorking).toBeGreaterThan(SEGMENTED_MOMENTS_BUDGET_BYTES);
    expect(t.encoder.tile ** 2 * encWorking).toBeLessThanOrEqual(SEGMENTED_MOMENTS_BUDGET_BYTES);
    expect(t.decoder.tile).toBe(48);
    expect(t.decoder.tile).toBeGreaterThan(old.decoder.tile);
    expect(t.encoder.tile).toBeGreaterThanOrEqual(old.encoder.tile);
    // A smaller device budget (fault recovery) shrinks the tile further.
    const small = autoTiling(vae16, { maxBufferBytes: 128 * 1024 ** 2 });
    expect(small.decoder.tile).toBeLessThan(t.decoder.tile);
    expect(autoTiling(vae16Input, { maxBufferBytes: 128 * 1024 ** 2 }).decoder.tile).toBeLessThan(
      old.decoder.tile,
    );
    // The whole run's estimate for a 1024² image stays under 1 GiB of activations: the tiles, and
    // the chunked mid graphs (the whole-latent attention alone would be 2 GiB).
    const e = estimatePackMemory(vae16, 'wasm', resolveTiling(vae16, undefined, wasm), {
      width: 1024,
      height: 1024,
    });
    expect(e.activationBytes).toBeLessThan(1024 ** 3);
  });
});
