/**
 * The seam-free KL VAE at GenDR's VAE architecture, full width (ostris/vae-kl-f8-d16's config:
 * block_out_channels 128, 128, 256, 512, two resnets per block, 16 latent channels), seeded random
 * weights, in a pack built by the builder (`convert sd-vae`): encode → decode through runPack,
 * tiled vs untiled, on onnxruntime-node.
 *
 * Its receptive reach is large (75 image px for the encoder's down graph, 13 latent px for the
 * decoder's up graph), so a stage only tiles on images above 168 px (encoder) and latents above
 * 27 px (decoder): 232 × 64 at ×1 (latent 29 × 8) tiles across on both. Exact mode makes (norms + 1)
 * passes of the tiled graph (17 for the encoder, 26 for the decoder): minutes on 2 cores.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPack } from '../engine/latent/pack-loader.ts';
import { runPack, type RunPackOptions, type StageReport } from '../engine/latent/pipeline.ts';
import { dirPackSource } from '../tools/builder/pack-dir.ts';
import { presetVaeConfig } from '../tools/builder/presets/index.ts';
import { writeSdVaePack } from '../tools/builder/sd-pack.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { psnrRgb } from './helpers/latent-packs.ts';
import { syntheticPhoto } from './helpers/rgba-images.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kl-vae16-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('VAE16 (ostris/vae-kl-f8-d16 config, full width) in a builder pack', () => {
  it('encode → decode through runPack: tiled = untiled (≥ 50 dB); fast mode reported', async () => {
    const config = presetVaeConfig('gendr');
    const m = writeSdVaePack({ random: true, seed: 16 }, config, dir, {
      precision: 'fp32',
      scale: 1,
    });
    expect(m.vae.segmentedEncoder?.reach).toBe(75);
    expect(m.vae.segmentedDecoder?.reach).toBe(13);
    const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
    const pack = await loadPack(dirPackSource(dir), runtime);
    try {
      const image = syntheticPhoto(232, 64, 3);
      // Tiles overlap by 2 × reach (160 image px, 26 latent px): two tiles across in each stage.
      const tiling = { encoder: { tile: 200, overlap: 8 }, decoder: { tile: 28, overlap: 2 } };
      const run = async (o: Partial<RunPackOptions>) => {
        const stages: StageReport[] = [];
        const t0 = performance.now();
        const out = await runPack(pack.sessions, pack.manifest, image, {
          tensors: runtime,
          packInterface: pack.packInterface,
          colorFix: 'none',
          onStage: (s) => stages.push(s),
          ...o,
        });
        const runs = Object.fromEntries(stages.map((s) => [s.stage, s.runs]));
        const klAttention = stages.map((s) => s.klAttention).filter(Boolean);
        return { out, runs, klAttention, s: (performance.now() - t0) / 1000 };
      };
      const untiled = await run({ tiling: 'none' });
      const exact = await run({ tiling });
      const fast = await run({ tiling, klStats: 'fast' });
      const db = psnrRgb(exact.out, untiled.out);
      const dbFast = psnrRgb(fast.out, untiled.out);
      console.log(
        `VAE16 pack 232×64, runPack tiled vs untiled: exact ${db.toFixed(1)} dB ` +
          `(encoder ${exact.runs.encode} runs, decoder ${exact.runs.decode}; ${exact.s.toFixed(0)} s), ` +
          `fast ${dbFast.toFixed(1)} dB (${fast.s.toFixed(0)} s); untiled ${untiled.s.toFixed(0)} s`,
      );
      // Two tiles across in each stage: (16 norms + 1) × 2 encoder runs, (25 + 1) × 2 decoder
      // runs, and each mid graph's 3 (pre, one attention chunk of 232 query rows, post).
      expect(exact.runs.encode).toBe(37);
      expect(exact.runs.decode).toBe(55);
      expect(exact.klAttention).toEqual(['chunked', 'chunked']);
      expect(db).toBeGreaterThanOrEqual(50);
      expect(dbFast).toBeLessThan(db);
    } finally {
      await pack.release();
    }
  }, 900_000);
});
