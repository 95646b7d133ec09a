/**
 * Packs built by the SD builder (`gendr-web pack`, `convert sd-vae`: tools/builder/sd-pack.ts)
 * carry the seam-free KL VAE (vae.segmentedEncoder and vae.segmentedDecoder) and runPack uses it
 * by default whenever a stage is tiled: tiled equals untiled (`tiling: 'none'`, the reference) on
 * onnxruntime-node. Packs without those sections load and run as before (feathered plain tiles).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../engine/image.ts';
import { parsePackManifest } from '../engine/latent/manifest.ts';
import { loadPack, type LoadedPack } from '../engine/latent/pack-loader.ts';
import { runPack, type RunPackOptions, type StageReport } from '../engine/latent/pipeline.ts';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { dirPackSource } from '../tools/builder/pack-dir.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { addSegmentedVaeToPack } from '../tools/builder/architectures/sd-vae/segmented.ts';
import { RandomWeightSource } from '../tools/builder/random-weights.ts';
import { writeSdVaePack } from '../tools/builder/sd-pack.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { psnrRgb } from './helpers/latent-packs.ts';
import { syntheticPhoto } from './helpers/rgba-images.ts';
import { TINY_VAE, writeTinySdPack } from './helpers/sd-tiny.ts';

const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kl-pack-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(
  pack: LoadedPack,
  image: RgbaImage,
  o: Partial<RunPackOptions> = {},
  sessions = pack.sessions,
): Promise<{ out: RgbaImage; stages: StageReport[] }> {
  const stages: StageReport[] = [];
  const out = await runPack(sessions, pack.manifest, image, {
    tensors: runtime,
    embeddings: pack.embeddings,
    packInterface: pack.packInterface,
    colorFix: 'none',
    onStage: (s) => stages.push(s),
    ...o,
  });
  return { out, stages };
}

const runsOf = (stages: StageReport[], stage: string) =>
  stages.find((s) => s.stage === stage)?.runs ?? 0;

describe('tiny KL VAE (GroupNorm, mid attention) in a builder pack', () => {
  it('the pack carries the segmented encoder and decoder; tiled = untiled through runPack', async () => {
    const packDir = path.join(dir, 'tiny');
    const m = writeTinySdPack(packDir, { seed: 3 });
    expect(m.vae.segmentedDecoder?.norms.length).toBe(9);
    expect(m.vae.segmentedEncoder?.norms.map((n) => n.scale)).toEqual([1, 1, 0.5, 0.5]);
    // The mid graphs come split at their attention (pre, attention chunks, post).
    expect(m.vae.segmentedEncoder?.mid).toBeUndefined();
    const chunked = m.vae.segmentedEncoder!.chunkedMid!;
    for (const p of [m.vae.segmentedEncoder!.down, chunked.pre, chunked.attention, chunked.post]) {
      expect(m.files[p]?.bytes).toBeGreaterThan(0);
    }
    const pack = await loadPack(dirPackSource(packDir), runtime);
    try {
      expect(pack.sessions.vaeEncoderDown).toBeDefined();
      expect(pack.sessions.vaeEncoderMidAttention).toBeDefined();
      expect(pack.sessions.vaeDecoderMidAttention).toBeDefined();
      // 20² → 80² (latent 40²; encoder tiles of 32 px, decoder tiles of 24 latent px).
      const image = syntheticPhoto(20, 20, 5);
      const tiling = {
        encoder: { tile: 32, overlap: 8 },
        unet: { tile: 4096 },
        decoder: { tile: 24, overlap: 2 },
      };
      const untiled = await run(pack, image, { tiling: 'none' });
      const exact = await run(pack, image, { tiling });
      const fast = await run(pack, image, { tiling, klStats: 'fast' });
      const { vaeEncoderDown: _d, vaeEncoderMidPre: _m, ...noSegEnc } = pack.sessions;
      const plainEnc = await run(pack, image, { tiling }, noSegEnc);
      const old = await run(
        pack,
        image,
        { tiling },
        {
          ...noSegEnc,
          vaeDecoderMidPre: undefined,
          vaeDecoderUp: undefined,
        },
      );
      const db = {
        exact: psnrRgb(exact.out, untiled.out),
        fast: psnrRgb(fast.out, untiled.out),
        plainEncoder: psnrRgb(plainEnc.out, untiled.out),
        plain: psnrRgb(old.out, untiled.out),
      };
      console.log(
        `tiny KL pack, runPack tiled vs untiled (encoder ${runsOf(exact.stages, 'encode')} runs, decoder ${runsOf(exact.stages, 'decode')}): ` +
          `exact ${db.exact.toFixed(1)} dB, fast ${db.fast.toFixed(1)} dB, ` +
          `plain-tiled encoder + exact decoder ${db.plainEncoder.toFixed(1)} dB, feathered plain tiles ${db.plain.toFixed(1)} dB`,
      );
      // The segmented encoder ran: (norms + 1) passes over several tiles, then mid.
      expect(runsOf(exact.stages, 'encode')).toBeGreaterThan(7 * 4);
      for (const stage of ['encode', 'decode']) {
        expect(exact.stages.find((s) => s.stage === stage)?.klAttention).toBe('chunked');
        expect(plainEnc.stages.find((s) => s.stage === stage)?.klAttention).toBe(
          stage === 'decode' ? 'chunked' : undefined,
        );
      }
      expect(runsOf(untiled.stages, 'encode')).toBe(1);
      expect(db.exact).toBeGreaterThanOrEqual(50);
      expect(db.fast).toBeLessThan(db.exact);
      expect(db.plainEncoder).toBeLessThan(db.exact);
      expect(db.plain).toBeLessThan(db.plainEncoder);
    } finally {
      await pack.release();
    }
  }, 120_000);

  it('the manifest schema checks vae.segmentedEncoder like the decoder', () => {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'tiny', 'manifest.json'), 'utf8'));
    expect(parsePackManifest(m).vae.segmentedEncoder?.reach).toBe(9);
    const unlisted = structuredClone(m);
    delete unlisted.files[m.vae.segmentedEncoder.down];
    expect(() => parsePackManifest(unlisted)).toThrow(
      'files: must list the segmented encoder graphs (vae.segmentedEncoder.down and .mid or .chunkedMid)',
    );
    const unlistedChunk = structuredClone(m);
    delete unlistedChunk.files[m.vae.segmentedDecoder.chunkedMid.attention];
    expect(() => parsePackManifest(unlistedChunk)).toThrow(
      'files: must list the segmented decoder graphs (vae.segmentedDecoder.mid or .chunkedMid, and .up)',
    );
    const both = structuredClone(m);
    both.vae.segmentedDecoder.mid = m.vae.segmentedDecoder.chunkedMid.pre;
    expect(() => parsePackManifest(both)).toThrow(
      'either `mid` or `chunkedMid`, not both or neither',
    );
    const neither = structuredClone(m);
    delete neither.vae.segmentedEncoder.chunkedMid;
    expect(() => parsePackManifest(neither)).toThrow('either `mid` or `chunkedMid`');
    const badScale = structuredClone(m);
    badScale.vae.segmentedEncoder.norms[0].scale = 0.3;
    expect(() => parsePackManifest(badScale)).toThrow(
      'vae.segmentedEncoder.norms.0.scale: a power of two (1, 0.5, 0.25 …)',
    );
    const typo = structuredClone(m);
    typo.vae.segmentedEncoder.up = 'x.onnx';
    expect(() => parsePackManifest(typo)).toThrow('vae.segmentedEncoder.up: unknown field');
    // What the graphs return of each norm's input: core moments, or (absent) the whole input.
    expect(m.vae.segmentedDecoder.stats).toBe('core-moments');
    expect(m.vae.segmentedEncoder.stats).toBe('core-moments');
    for (const bad of ['input', 'moments', 1]) {
      const badStats = structuredClone(m);
      badStats.vae.segmentedDecoder.stats = bad;
      expect(() => parsePackManifest(badStats)).toThrow('vae.segmentedDecoder.stats');
    }
    const badEncStats = structuredClone(m);
    badEncStats.vae.segmentedEncoder.stats = 'core_moments';
    expect(() => parsePackManifest(badEncStats)).toThrow('vae.segmentedEncoder.stats');
    const noStats = structuredClone(m);
    delete noStats.vae.segmentedDecoder.stats;
    expect(parsePackManifest(noStats).vae.segmentedDecoder?.stats).toBeUndefined();
  });

  it('a pack whose segmented graphs return whole norm inputs (built before core moments) runs as before', async () => {
    const packDir = path.join(dir, 'tiny');
    const inputDir = path.join(dir, 'tiny-input');
    fs.cpSync(packDir, inputDir, { recursive: true });
    // writeTinySdPack's VAE weights: seed + 1.
    const config = parseVaeConfig(TINY_VAE);
    const weights = new RandomWeightSource(vaeTensorSpecs(planVae(config)), 4);
    addSegmentedVaeToPack(inputDir, weights, config, {
      precision: 'fp32',
      form: 'plain',
      statsForm: 'input',
    });
    const m = JSON.parse(fs.readFileSync(path.join(inputDir, 'manifest.json'), 'utf8'));
    expect(m.vae.segmentedDecoder.stats).toBeUndefined();
    expect(m.vae.segmentedEncoder.stats).toBeUndefined();
    const old = await loadPack(dirPackSource(inputDir), runtime);
    const moments = await loadPack(dirPackSource(packDir), runtime);
    try {
      const norm = m.vae.segmentedDecoder.norms[0].name;
      expect(old.sessions.vaeDecoderUp?.outputNames).toContain(`${norm}.input`);
      expect(old.sessions.vaeDecoderUp?.inputNames).not.toContain('core');
      expect(moments.sessions.vaeDecoderUp?.outputNames).toContain(`${norm}.core_m2`);
      const image = syntheticPhoto(12, 12, 4);
      const tiling = { encoder: { tile: 32, overlap: 8 }, decoder: { tile: 16, overlap: 2 } };
      const a = await run(old, image, { tiling });
      const b = await run(moments, image, { tiling });
      expect(runsOf(a.stages, 'encode')).toBe(runsOf(b.stages, 'encode'));
      expect(runsOf(a.stages, 'decode')).toBe(runsOf(b.stages, 'decode'));
      expect(runsOf(b.stages, 'decode')).toBeGreaterThan(
        2 * (m.vae.segmentedDecoder.norms.length + 1),
      );
      const db = psnrRgb(a.out, b.out);
      console.log(
        `tiny KL pack through runPack, tiled: whole-input vs core-moments graphs ${db.toFixed(1)} dB`,
      );
      expect(db).toBeGreaterThanOrEqual(50);
    } finally {
      await old.release();
      await moments.release();
    }
  });

  it('a pack without the segmented sections (an older pack) loads and runs as before', async () => {
    const packDir = path.join(dir, 'tiny');
    const file = path.join(packDir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    const oldDir = path.join(dir, 'tiny-old');
    fs.cpSync(packDir, oldDir, { recursive: true });
    delete m.vae.segmentedEncoder;
    delete m.vae.segmentedDecoder;
    for (const p of Object.keys(m.files)) if (p.includes('_segmented/')) delete m.files[p];
    fs.writeFileSync(path.join(oldDir, 'manifest.json'), JSON.stringify(m));
    const pack = await loadPack(dirPackSource(oldDir), runtime);
    try {
      expect(pack.sessions.vaeEncoderDown).toBeUndefined();
      expect(pack.sessions.vaeDecoderUp).toBeUndefined();
      const image = syntheticPhoto(12, 12, 2);
      const tiling = { encoder: { tile: 24, overlap: 8 }, decoder: { tile: 8, overlap: 2 } };
      const { out, stages } = await run(pack, image, { tiling });
      expect([out.width, out.height]).toEqual([48, 48]);
      // Plain tiles: one run per encoder tile (3 × 3), as before.
      expect(runsOf(stages, 'encode')).toBe(9);
    } finally {
      await pack.release();
    }
  });

  it('a pack whose segmented mid graphs are whole (built before chunkedMid) runs as before', async () => {
    const packDir = path.join(dir, 'tiny');
    const wholeDir = path.join(dir, 'tiny-whole');
    fs.cpSync(packDir, wholeDir, { recursive: true });
    // writeTinySdPack's VAE weights: seed + 1.
    const config = parseVaeConfig(TINY_VAE);
    const weights = new RandomWeightSource(vaeTensorSpecs(planVae(config)), 4);
    addSegmentedVaeToPack(wholeDir, weights, config, {
      precision: 'fp32',
      form: 'plain',
      midForm: 'whole',
    });
    const file = path.join(wholeDir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const p of Object.keys(m.files))
      if (/\/mid_(pre|attention|post)\./.test(p)) delete m.files[p];
    fs.writeFileSync(file, JSON.stringify(m));
    expect(m.vae.segmentedDecoder.mid).toBe('vae_decoder_segmented/mid.onnx');
    expect(m.vae.segmentedEncoder.mid).toBe('vae_encoder_segmented/mid.onnx');
    const whole = await loadPack(dirPackSource(wholeDir), runtime);
    const chunked = await loadPack(dirPackSource(packDir), runtime);
    try {
      expect(whole.sessions.vaeDecoderMid).toBeDefined();
      expect(whole.sessions.vaeDecoderMidPre).toBeUndefined();
      const image = syntheticPhoto(16, 16, 4);
      const tiling = { encoder: { tile: 32, overlap: 8 }, decoder: { tile: 20, overlap: 2 } };
      const a = await run(whole, image, { tiling });
      const b = await run(chunked, image, { tiling });
      const klAttention = (r: typeof a) => r.stages.map((s) => s.klAttention).filter(Boolean);
      expect(klAttention(a)).toEqual(['whole', 'whole']);
      expect(klAttention(b)).toEqual(['chunked', 'chunked']);
      // Whole mid graph: one run each; chunked: pre, one chunk at this size, post.
      expect(runsOf(b.stages, 'encode') - runsOf(a.stages, 'encode')).toBe(2);
      expect(runsOf(b.stages, 'decode') - runsOf(a.stages, 'decode')).toBe(2);
      const db = psnrRgb(a.out, b.out);
      console.log(`tiny KL pack, whole vs chunked mid graphs through runPack: ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThanOrEqual(60);
    } finally {
      await whole.release();
      await chunked.release();
    }
  });

  it('a VAE-only pack (convert sd-vae) carries both too: encode → decode tiled = untiled', async () => {
    const packDir = path.join(dir, 'tiny-vae');
    const m = writeSdVaePack({ random: true, seed: 9 }, parseVaeConfig(TINY_VAE), packDir, {
      precision: 'fp32',
      scale: 2,
    });
    expect(m.vae.segmentedEncoder).toBeDefined();
    expect(m.vae.segmentedDecoder).toBeDefined();
    const pack = await loadPack(dirPackSource(packDir), runtime);
    try {
      const image = syntheticPhoto(30, 26, 8);
      const tiling = { encoder: { tile: 24, overlap: 8 }, decoder: { tile: 16, overlap: 2 } };
      const untiled = await run(pack, image, { tiling: 'none' });
      const tiled = await run(pack, image, { tiling });
      const db = psnrRgb(tiled.out, untiled.out);
      console.log(`tiny KL VAE pack, encode→decode tiled vs untiled: ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThanOrEqual(50);
    } finally {
      await pack.release();
    }
  });
});
