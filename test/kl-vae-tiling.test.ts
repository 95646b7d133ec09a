/**
 * Seam-free tiled decoding for AutoencoderKL (engine/latent/kl-vae/): a tiny random-weight VAE
 * with GroupNorm and mid-block attention, built by the project's builder in its plain form (the
 * untiled reference) and its segmented form (the mid graph split at the attention, run over
 * chunks of query rows, and the whole mid graph older packs carry; GroupNorm moments over tile
 * cores computed in the graphs, and the whole norm inputs older packs return), run on
 * onnxruntime-node.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import {
  buildVaeDecoderGraph,
  buildVaeEncoderGraph,
} from '../tools/builder/architectures/sd-vae/graph.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import {
  addSegmentedDecoderToPack,
  buildSegmentedVaeDecoder,
  buildSegmentedVaeEncoder,
  type ChunkedMidGraphs,
} from '../tools/builder/architectures/sd-vae/segmented.ts';
import { dirPackSource } from '../tools/builder/pack-dir.ts';
import { loadPack } from '../engine/latent/pack-loader.ts';
import { runPack, type RunPackOptions } from '../engine/latent/pipeline.ts';
import { syntheticPhoto } from './helpers/rgba-images.ts';
import { psnrRgb } from './helpers/latent-packs.ts';
import { RandomWeightSource } from '../tools/builder/random-weights.ts';
import { writeModelFile } from '../tools/onnx/model-writer.ts';
import type { SdGraph } from '../tools/builder/architectures/sd-unet/sd-graph.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import type { EngineRuntime, EngineSession } from '../engine/session.ts';
import { GroupStats } from '../engine/latent/kl-vae/group-stats.ts';
import { midRunCount, type ChunkedMid } from '../engine/latent/kl-vae/chunked-attention.ts';
import {
  decodeSegmented,
  segmentedRunCount,
  segmentedTiles,
  type SegmentedKlDecoder,
} from '../engine/latent/kl-vae/segmented-decode.ts';
import {
  encodeSegmented,
  segmentedEncodeRunCount,
} from '../engine/latent/kl-vae/segmented-encode.ts';
import { cropPlanar, type PlanarImage } from '../engine/latent/planar.ts';
import { readFloat } from '../engine/latent/tensors.ts';
import { signal, TINY_VAE, writeTinySdPack } from './helpers/sd-tiny.ts';

/** PSNR in dB with the reference's value range as the peak. */
function psnr(a: Float32Array, ref: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  let se = 0;
  for (let i = 0; i < ref.length; i++) {
    lo = Math.min(lo, ref[i]);
    hi = Math.max(hi, ref[i]);
    se += (a[i] - ref[i]) ** 2;
  }
  return 10 * Math.log10((hi - lo) ** 2 / (se / ref.length));
}

const W = 32;
const H = 28;
const TILE = 20;
let dir: string;
let runtime: EngineRuntime;
let plain: EngineSession;
let plainEncoder: EngineSession;
let encoder: Parameters<typeof encodeSegmented>[0];
/** Query rows per attention chunk in these tests: 896 latent tokens in 25 chunks, the last short. */
const ROWS = 37;
let dec: SegmentedKlDecoder;
let decWhole: SegmentedKlDecoder;
let encoderWhole: Parameters<typeof encodeSegmented>[0];
/** The older 'input' form: the graphs return each norm's whole input. */
let decInput: SegmentedKlDecoder;
let encoderInput: Parameters<typeof encodeSegmented>[0];
let latent: PlanarImage;
let reference: Float32Array;

async function load(g: SdGraph, name: string): Promise<EngineSession> {
  const file = path.join(dir, `${name}.onnx`);
  writeModelFile(g.g, file);
  return runtime.createSession(file);
}

async function loadChunked(g: ChunkedMidGraphs | undefined, name: string): Promise<ChunkedMid> {
  if (!g) throw new Error('no chunked mid graph');
  return {
    pre: await load(g.pre, `${name}-pre`),
    attention: await load(g.attention, `${name}-attention`),
    post: await load(g.post, `${name}-post`),
  };
}

async function loadWhole(g: SdGraph | undefined, name: string): Promise<EngineSession> {
  if (!g) throw new Error('no whole mid graph');
  return load(g, name);
}

async function decodePlain(z: PlanarImage): Promise<Float32Array> {
  const out = await plain.run({
    latent_sample: runtime.tensor('float32', z.data, [1, z.channels, z.height, z.width]),
  });
  return readFloat(out.sample, 'sample').slice();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-kl-vae-'));
  runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
  const config = parseVaeConfig(TINY_VAE);
  const plan = planVae(config);
  const weights = new RandomWeightSource(vaeTensorSpecs(plan), 7);
  const opts = { precision: 'fp32', form: 'plain' } as const;
  plain = await load(buildVaeDecoderGraph(plan, weights, opts), 'plain');
  const seg = buildSegmentedVaeDecoder(plan, weights, opts);
  expect(seg.mid).toBeUndefined();
  dec = {
    mid: await loadChunked(seg.chunked, 'mid'),
    up: await load(seg.up, 'up'),
    norms: seg.norms,
    stats: seg.stats,
    reach: seg.reach,
    factor: plan.downscaleFactor,
    attentionRows: ROWS,
  };
  const whole = buildSegmentedVaeDecoder(plan, weights, opts, 'whole');
  expect(whole.chunked).toBeUndefined();
  decWhole = { ...dec, mid: await loadWhole(whole.mid, 'mid-whole'), attentionRows: undefined };
  const inputForm = buildSegmentedVaeDecoder(plan, weights, opts, 'chunked', 'input');
  expect(inputForm.stats).toBe('input');
  decInput = { ...dec, up: await load(inputForm.up, 'up-input'), stats: 'input' };
  // Smooth like a real latent, plus a little detail.
  const detail = signal(16 * W * H, 0.37, 1);
  plainEncoder = await load(buildVaeEncoderGraph(plan, weights, opts), 'plain-encoder');
  const segEnc = buildSegmentedVaeEncoder(plan, weights, opts);
  encoder = {
    down: await load(segEnc.down, 'enc-down'),
    mid: await loadChunked(segEnc.chunked, 'enc-mid'),
    norms: segEnc.norms,
    stats: segEnc.stats,
    reach: segEnc.reach,
    factor: plan.downscaleFactor,
    attentionRows: ROWS,
  };
  const segEncWhole = buildSegmentedVaeEncoder(plan, weights, opts, 'whole');
  encoderWhole = { ...encoder, mid: await loadWhole(segEncWhole.mid, 'enc-mid-whole') };
  const segEncInput = buildSegmentedVaeEncoder(plan, weights, opts, 'chunked', 'input');
  encoderInput = {
    ...encoder,
    down: await load(segEncInput.down, 'enc-down-input'),
    stats: 'input',
  };
  latent = { channels: 16, width: W, height: H, data: new Float32Array(16 * W * H) };
  for (let c = 0; c < 16; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = (c * H + y) * W + x;
        latent.data[i] = 2 * Math.sin(0.21 * x + c) * Math.cos(0.17 * y + 2 * c) + 0.3 * detail[i];
      }
  reference = await decodePlain(latent);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('GroupStats', () => {
  it('merges tiles with the between-tile term (equal to one pass over the whole)', () => {
    const w = 6;
    const h = 4;
    const data = Float32Array.from({ length: 2 * w * h }, (_, i) => (i % w < 3 ? 0 : 10) + (i % 5));
    const whole = new GroupStats(2, 1);
    whole.add(data, w, h, { x: 0, y: 0, width: w, height: h });
    const tiles = new GroupStats(2, 1);
    tiles.add(data, w, h, { x: 0, y: 0, width: 3, height: h });
    tiles.add(data, w, h, { x: 3, y: 0, width: 3, height: h });
    const a = whole.perChannel(0);
    const b = tiles.perChannel(0);
    expect(tiles.count(0)).toBe(2 * w * h);
    expect(b.mean[0]).toBeCloseTo(a.mean[0], 5);
    expect(b.invstd[1]).toBeCloseTo(a.invstd[1], 6);
    // Averaging the two halves' variances (no between-tile term) would give a far smaller one.
    const left = new GroupStats(2, 1);
    left.add(data, w, h, { x: 0, y: 0, width: 3, height: h });
    expect(left.perChannel(0).invstd[0]).toBeGreaterThan(2 * a.invstd[0]);
  });
});

describe('GroupStats.addMoments', () => {
  it('merges per-channel moments with the between-channel and between-tile terms', () => {
    const w = 5;
    const h = 3;
    const C = 4;
    const data = Float32Array.from(
      { length: C * w * h },
      (_, i) => 3 * Math.floor(i / 7) + (i % 4),
    );
    const whole = new GroupStats(C, 2);
    whole.add(data, w, h, { x: 0, y: 0, width: w, height: h });
    const parts = new GroupStats(C, 2);
    for (const [x0, x1] of [
      [0, 2],
      [2, w],
    ]) {
      const mean = new Float32Array(C);
      const m2 = new Float32Array(C);
      const n = (x1 - x0) * h;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let y = 0; y < h; y++) for (let x = x0; x < x1; x++) sum += data[(c * h + y) * w + x];
        mean[c] = sum / n;
        for (let y = 0; y < h; y++)
          for (let x = x0; x < x1; x++) m2[c] += (data[(c * h + y) * w + x] - mean[c]) ** 2;
      }
      parts.addMoments(n, mean, m2);
    }
    const a = whole.perChannel(0);
    const b = parts.perChannel(0);
    expect(parts.count(1)).toBe(whole.count(1));
    for (let c = 0; c < C; c++) {
      expect(b.mean[c]).toBeCloseTo(a.mean[c], 5);
      expect(b.invstd[c]).toBeCloseTo(a.invstd[c], 5);
    }
    expect(() => parts.addMoments(1, new Float32Array(3), new Float32Array(3))).toThrow();
  });
});

describe('segmented AutoencoderKL decoder', () => {
  it('returns core moments per norm (and the older form whole inputs)', () => {
    const outs = dec.up.outputNames;
    expect(dec.up.inputNames).toContain('core');
    for (const n of dec.norms) {
      expect(outs).toContain(`${n.name}.core_mean`);
      expect(outs).toContain(`${n.name}.core_m2`);
      expect(outs).not.toContain(`${n.name}.input`);
    }
    expect(decInput.up.inputNames).not.toContain('core');
    expect(decInput.up.outputNames).toContain(`${dec.norms[0].name}.input`);
    expect(encoder.down.inputNames).toContain('core');
    expect(encoder.down.outputNames).toContain(`${encoder.norms.at(-1)!.name}.core_m2`);
  });

  it('has cores that tile the latent exactly once with room for the receptive reach', () => {
    const tiles = segmentedTiles(W, H, TILE, dec.reach);
    expect(tiles.length).toBeGreaterThan(4);
    const owned = new Uint8Array(W * H);
    for (const t of tiles) {
      for (let y = t.y.core0; y < t.y.core1; y++)
        for (let x = t.x.core0; x < t.x.core1; x++) owned[y * W + x]++;
      for (const [a, c0, c1, n, size] of [
        [t.x.start, t.x.core0, t.x.core1, t.width, W],
        [t.y.start, t.y.core0, t.y.core1, t.height, H],
      ]) {
        if (c0 > 0) expect(c0 - a).toBeGreaterThanOrEqual(dec.reach);
        if (c1 < size) expect(a + n - c1).toBeGreaterThanOrEqual(dec.reach);
      }
    }
    expect(owned.every((v) => v === 1)).toBe(true);
  });

  it('untiled, equals the plain decoder, with chunked attention as with the whole mid graph', async () => {
    let runs = 0;
    const out = await decodeSegmented(dec, latent, {
      tensors: runtime,
      tile: 1 << 20,
      onRun: () => runs++,
    });
    // pre, 25 attention chunks, post, then (norms + 1) passes of the single up tile.
    expect(midRunCount(dec.mid, W * H, ROWS)).toBe(2 + Math.ceil((W * H) / ROWS));
    expect(runs).toBe(segmentedRunCount(dec, W, H, 1 << 20));
    expect(runs).toBe(27 + dec.norms.length + 1);
    const whole = await decodeSegmented(decWhole, latent, { tensors: runtime, tile: 1 << 20 });
    // The default chunk size: one chunk at this size.
    const oneChunk = await decodeSegmented({ ...dec, attentionRows: undefined }, latent, {
      tensors: runtime,
      tile: 1 << 20,
    });
    const db = psnr(out.data, reference);
    const dbWhole = psnr(whole.data, reference);
    const dbChunks = psnr(out.data, whole.data);
    const dbOne = psnr(oneChunk.data, whole.data);
    console.log(
      `segmented untiled vs plain decoder: chunked attention ${db.toFixed(1)} dB, whole mid graph ${dbWhole.toFixed(1)} dB; ` +
        `chunked (25 chunks) vs whole ${dbChunks.toFixed(1)} dB, one chunk vs whole ${dbOne.toFixed(1)} dB`,
    );
    expect(db).toBeGreaterThan(70);
    expect(dbWhole).toBeGreaterThan(70);
    // Equal within float32 rounding.
    expect(dbChunks).toBeGreaterThan(90);
    expect(dbOne).toBeGreaterThan(90);
  });

  it('exact mode: tiled equals untiled (≥ 50 dB); fast mode and per-tile norms fall short', async () => {
    let runs = 0;
    const t0 = performance.now();
    const exact = await decodeSegmented(dec, latent, {
      tensors: runtime,
      tile: TILE,
      onRun: () => runs++,
    });
    const exactMs = performance.now() - t0;
    expect(runs).toBe(segmentedRunCount(dec, W, H, TILE));
    const t1 = performance.now();
    const fast = await decodeSegmented(dec, latent, { tensors: runtime, tile: TILE, mode: 'fast' });
    const fastMs = performance.now() - t1;

    // Tiles decoded independently (each with its own GroupNorm statistics and attention), cores kept.
    const naive = new Float32Array(reference.length);
    const f = dec.factor;
    for (const t of segmentedTiles(W, H, TILE, dec.reach)) {
      const part = await decodePlain(cropPlanar(latent, t.x.start, t.y.start, t.width, t.height));
      const tw = t.width * f;
      const th = t.height * f;
      for (let c = 0; c < 3; c++)
        for (let y = t.y.core0 * f; y < t.y.core1 * f; y++)
          for (let x = t.x.core0 * f; x < t.x.core1 * f; x++)
            naive[c * W * f * H * f + y * W * f + x] =
              part[c * tw * th + (y - t.y.start * f) * tw + x - t.x.start * f];
    }
    const dbExact = psnr(exact.data, reference);
    const dbFast = psnr(fast.data, reference);
    const dbNaive = psnr(naive, reference);
    console.log(
      `tiled decode vs untiled (${segmentedTiles(W, H, TILE, dec.reach).length} tiles, ${dec.norms.length} norms, reach ${dec.reach}): ` +
        `exact ${dbExact.toFixed(1)} dB (${exactMs.toFixed(0)} ms, ${runs} runs), fast ${dbFast.toFixed(1)} dB (${fastMs.toFixed(0)} ms), ` +
        `per-tile norms ${dbNaive.toFixed(1)} dB`,
    );
    expect(dbExact).toBeGreaterThanOrEqual(50);
    expect(dbFast).toBeLessThan(dbExact);
    expect(dbFast).toBeGreaterThan(dbNaive);
  });

  it('the older whole-input form decodes tiled as before, matching the core-moments form', async () => {
    let runs = 0;
    const old = await decodeSegmented(decInput, latent, {
      tensors: runtime,
      tile: TILE,
      onRun: () => runs++,
    });
    const moments = await decodeSegmented(dec, latent, { tensors: runtime, tile: TILE });
    const dbOld = psnr(old.data, reference);
    const dbForms = psnr(moments.data, old.data);
    console.log(
      `tiled decode, whole-input form vs untiled ${dbOld.toFixed(1)} dB; core-moments vs whole-input form ${dbForms.toFixed(1)} dB`,
    );
    expect(runs).toBe(segmentedRunCount(decInput, W, H, TILE));
    expect(dbOld).toBeGreaterThanOrEqual(50);
    expect(dbForms).toBeGreaterThanOrEqual(50);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(
      decodeSegmented(dec, latent, { tensors: runtime, tile: TILE, signal: ac.signal }),
    ).rejects.toThrow('stop');
  });
});

describe('segmented AutoencoderKL encoder', () => {
  it('tiled equals untiled on encode and on encode→decode (≥ 50 dB)', async () => {
    const iw = 64;
    const ih = 56;
    const image: PlanarImage = {
      channels: 3,
      width: iw,
      height: ih,
      data: new Float32Array(3 * iw * ih),
    };
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < ih; y++)
        for (let x = 0; x < iw; x++)
          image.data[(c * ih + y) * iw + x] = 0.8 * Math.sin(0.11 * x + c) * Math.cos(0.07 * y - c);
    const out = await plainEncoder.run({
      sample: runtime.tensor('float32', image.data, [1, 3, ih, iw]),
    });
    const ref = readFloat(out.latent_parameters, 'latent_parameters').slice();
    let runs = 0;
    const tiled = await encodeSegmented(encoder, image, {
      tensors: runtime,
      tile: 32,
      onRun: () => runs++,
    });
    const dbEncode = psnr(tiled.data, ref);
    // Decode the means (the first 16 planes): plain untiled vs segmented tiled.
    const lw = iw / 2;
    const lh = ih / 2;
    const mean = (d: Float32Array): PlanarImage => ({
      channels: 16,
      width: lw,
      height: lh,
      data: d.slice(0, 16 * lw * lh),
    });
    const refImage = await decodePlain(mean(ref));
    const roundTrip = await decodeSegmented(dec, mean(tiled.data), {
      tensors: runtime,
      tile: TILE,
    });
    const dbRoundTrip = psnr(roundTrip.data, refImage);
    console.log(
      `tiled encoder (${runs} runs, ${encoder.norms.length} norms, reach ${encoder.reach} px): encode ${dbEncode.toFixed(1)} dB, encode→decode ${dbRoundTrip.toFixed(1)} dB`,
    );
    const wholeMid = await encodeSegmented(encoderWhole, image, { tensors: runtime, tile: 32 });
    const dbChunks = psnr(tiled.data, wholeMid.data);
    console.log(
      `tiled encoder, chunked attention (${Math.ceil((lw * lh) / ROWS)} chunks) vs the whole mid graph: ${dbChunks.toFixed(1)} dB`,
    );
    expect(runs).toBe(segmentedEncodeRunCount(encoder, iw, ih, 32));
    expect(runs).toBeGreaterThan(encoder.norms.length + 2 + Math.ceil((lw * lh) / ROWS));
    expect(dbEncode).toBeGreaterThanOrEqual(50);
    expect(dbRoundTrip).toBeGreaterThanOrEqual(50);
    expect(dbChunks).toBeGreaterThan(90);
    const oldForm = await encodeSegmented(encoderInput, image, { tensors: runtime, tile: 32 });
    const dbOld = psnr(oldForm.data, ref);
    const dbForms = psnr(tiled.data, oldForm.data);
    console.log(
      `tiled encoder, whole-input form vs untiled ${dbOld.toFixed(1)} dB; core-moments vs whole-input form ${dbForms.toFixed(1)} dB`,
    );
    expect(dbOld).toBeGreaterThanOrEqual(50);
    expect(dbForms).toBeGreaterThanOrEqual(50);
  });
});

describe('runPack with a segmented KL decoder', () => {
  it('decodes tiled like untiled by default, and streams the whole output', async () => {
    const packDir = path.join(dir, 'pack');
    writeTinySdPack(packDir, { seed: 3 });
    const config = parseVaeConfig(TINY_VAE);
    // writeTinySdPack's VAE weights: seed + 1.
    const weights = new RandomWeightSource(vaeTensorSpecs(planVae(config)), 4);
    addSegmentedDecoderToPack(packDir, weights, config, { precision: 'fp32', form: 'plain' });
    const pack = await loadPack(dirPackSource(packDir), runtime);
    try {
      expect(pack.manifest.vae.segmentedDecoder?.norms.length).toBe(9);
      expect(pack.manifest.vae.segmentedDecoder?.mid).toBeUndefined();
      expect(pack.manifest.vae.segmentedDecoder?.stats).toBe('core-moments');
      expect(pack.sessions.vaeDecoderUp).toBeDefined();
      expect(pack.sessions.vaeDecoderMidAttention).toBeDefined();
      const image = syntheticPhoto(16, 14, 5);
      const base = {
        tensors: runtime,
        embeddings: pack.embeddings,
        packInterface: pack.packInterface,
        colorFix: 'none',
      } satisfies Partial<RunPackOptions>;
      const untiled = await runPack(pack.sessions, pack.manifest, image, {
        ...base,
        tiling: 'none',
      });
      // Only the decoder tiled (tile 22 latent pixels of 32 × 32).
      const tiling = { encoder: { tile: 4096 }, unet: { tile: 4096 }, decoder: { tile: 22 } };
      let decodeRuns = 0;
      let attention: string | undefined;
      let tiles = 0;
      const tiled = await runPack(pack.sessions, pack.manifest, image, {
        ...base,
        tiling,
        onStage: (r) => {
          if (r.stage === 'decode') {
            decodeRuns = r.runs;
            attention = r.klAttention;
          }
        },
        onTile: () => tiles++,
      });
      expect(attention).toBe('chunked');
      const plainSessions = {
        ...pack.sessions,
        vaeDecoderMidPre: undefined,
        vaeDecoderMidAttention: undefined,
        vaeDecoderMidPost: undefined,
        vaeDecoderUp: undefined,
      };
      const feathered = await runPack(plainSessions, pack.manifest, image, { ...base, tiling });
      const seamFree = psnrRgb(tiled, untiled);
      const old = psnrRgb(feathered, untiled);
      console.log(
        `runPack tiled vs untiled decode: segmented exact ${seamFree.toFixed(1)} dB (${decodeRuns} decoder runs), feathered plain tiles ${old.toFixed(1)} dB`,
      );
      expect(decodeRuns).toBeGreaterThan(9);
      expect(tiles).toBeGreaterThan(0);
      expect(seamFree).toBeGreaterThanOrEqual(50);
      expect(old).toBeLessThan(seamFree);
    } finally {
      await pack.release();
    }
  });
});
