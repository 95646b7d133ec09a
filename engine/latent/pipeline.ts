/**
 * The one-step latent SR pipeline (GenDR, OSEDiff and anything with their interface):
 *
 *   LR ─bicubic ×scale─▶ map to the VAE range ─encode (mean)─▶ z ─(z − shift)·scaling─▶ one UNet
 *   step ─ z₀ = (z − σ·ε)/α ─▶ z₀/scaling + shift ─decode─▶ clamp ─colour fix─▶ output
 *
 * Every stage is tiled: encoder tiles overlap in pixels and are feathered in latent space; UNet
 * tiles overlap in latent space and their outputs are blended with Gaussian weights (OSEDiff);
 * decoder tiles overlap and are feathered in pixel space. Finished output rows stream out in
 * order through `onTile`, with the same TileUpdate shape as upscaleImage.
 *
 * Runtime-free: sessions and tensors come from the caller (onnxruntime-web or -node adapters).
 */
import { bleedTransparentColors } from '../alpha.ts';
import { createImage, hasTransparency, pasteRect, type Rect, type RgbaImage } from '../image.ts';
import { isGrayscale } from '../pixels.ts';
import type { EngineSession, EngineTensor, TensorFactory } from '../session.ts';
import type { TileUpdate } from '../upscale.ts';
import { resizePlanar } from './bicubic.ts';
import {
  adainRows,
  channelStats,
  WAVELET_REACH,
  waveletRows,
  type ChannelStats,
  type ColorFix,
} from './color-fix.ts';
import { floatToHalf } from './float16.ts';
import {
  decodeSegmented,
  midOf,
  segmentedRunCount,
  type KlStatsMode,
  type SegmentedDecoderSessions,
  type SegmentedKlDecoder,
} from './kl-vae/segmented-decode.ts';
import {
  encodeSegmented,
  segmentedEncodeRunCount,
  type SegmentedEncoderSessions,
  type SegmentedKlEncoder,
} from './kl-vae/segmented-encode.ts';
import { midAttention, type KlAttention } from './kl-vae/chunked-attention.ts';
import type { PackManifest } from './manifest.ts';
import { checkPackInterface, type PackInterface, type PackSessions } from './pack-interface.ts';
import {
  clampInPlace,
  createPlanar,
  cropPlanar,
  planarRectToRgba,
  remap,
  rgbaToPlanar,
  type PlanarImage,
} from './planar.ts';
import { floatTensor, readFloat } from './tensors.ts';
import {
  BlendCanvas,
  featherWeights,
  gaussianWeights,
  neighbourRamps,
  tileGrid,
  type TileRect,
} from './tiling.ts';
import {
  resolveTiling,
  type DeviceLimits,
  type LatentTiling,
  type LatentTilingOption,
} from './tiling-plan.ts';

export type { TileUpdate } from '../upscale.ts';

/** The pack's fixed prompt embedding(s), [batch, tokens, width] row-major float32. */
export interface PackEmbeddings {
  positive: Float32Array;
  negative?: Float32Array;
  shape: readonly [number, number, number];
}

export type PipelineStage = 'prepare' | 'encode' | 'unet' | 'decode' | 'colorfix';

export interface StageReport {
  stage: PipelineStage;
  /** Wall time spent in the stage (colour fix: summed over the streamed bands). */
  ms: number;
  /** Session runs (tiles) in the stage. */
  runs: number;
  /**
   * Encode and decode through a segmented KL VAE: how its mid graph's self-attention ran, over
   * the whole latent at once or in chunks of query rows (engine/latent/kl-vae/chunked-attention.ts).
   */
  klAttention?: KlAttention;
}

export interface RunPackOptions {
  /** Makes input tensors for the sessions' runtime. */
  tensors: TensorFactory;
  /** Required when the manifest has a UNet. */
  embeddings?: PackEmbeddings;
  /** Default 'adain'. */
  colorFix?: ColorFix;
  /** 'none' runs every stage untiled; otherwise per-stage overrides of the automatic tiling. */
  tiling?: LatentTilingOption;
  /** Device limits for automatic tile sizes (defaults apply without them). */
  limits?: DeviceLimits;
  /** Cancels between session runs: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Finished output blocks, in order, covering the output exactly once. */
  onTile?: (update: TileUpdate) => void;
  /** Session runs done and in total, over all stages. */
  onProgress?: (done: number, total: number) => void;
  /** Called as each stage ends. */
  onStage?: (report: StageReport) => void;
  /** The checked interface, when the caller already has it (from loadPack). */
  packInterface?: PackInterface;
  /**
   * GroupNorm statistics of a tiled segmented KL decoder: 'exact' (default; tiled = untiled) or
   * 'fast' (estimated from a 2×-downscaled pass; one tiled decode).
   */
  klStats?: KlStatsMode;
}

/** The pack's segmented KL decoder, where it has one and its sessions were loaded. */
function segmentedDecoder(
  sessions: PackSessions & SegmentedDecoderSessions,
  m: PackManifest,
  type: PackInterface['decoder']['type'],
): SegmentedKlDecoder | null {
  const seg = m.vae.segmentedDecoder;
  const mid = midOf(
    sessions.vaeDecoderMid,
    sessions.vaeDecoderMidPre,
    sessions.vaeDecoderMidAttention,
    sessions.vaeDecoderMidPost,
  );
  if (!seg || !mid || !sessions.vaeDecoderUp) return null;
  return {
    mid,
    up: sessions.vaeDecoderUp,
    norms: seg.norms,
    stats: seg.stats,
    reach: seg.reach,
    factor: m.vae.downscaleFactor,
    type,
  };
}

/** The pack's segmented KL encoder, where it has one and its sessions were loaded. */
function segmentedEncoder(
  sessions: PackSessions & SegmentedEncoderSessions,
  m: PackManifest,
  type: PackInterface['encoder']['type'],
): SegmentedKlEncoder | null {
  const seg = m.vae.segmentedEncoder;
  const mid = midOf(
    sessions.vaeEncoderMid,
    sessions.vaeEncoderMidPre,
    sessions.vaeEncoderMidAttention,
    sessions.vaeEncoderMidPost,
  );
  if (!seg || !sessions.vaeEncoderDown || !mid) return null;
  return {
    down: sessions.vaeEncoderDown,
    mid,
    norms: seg.norms,
    stats: seg.stats,
    reach: seg.reach,
    factor: m.vae.downscaleFactor,
    type,
  };
}

interface Ctx {
  tensors: TensorFactory;
  signal?: AbortSignal;
  step: () => void;
}

/** Runs one session and returns `output`'s values as an owned float32 array plus its dims. */
async function runOnce(
  session: EngineSession,
  feeds: Record<string, EngineTensor>,
  output: string,
  what: string,
  keep: readonly EngineTensor[] = [],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  let outputs: Record<string, EngineTensor>;
  try {
    outputs = await session.run(feeds);
  } finally {
    for (const t of Object.values(feeds)) if (!keep.includes(t)) t.dispose?.();
  }
  try {
    const out = outputs[output];
    if (!out) throw new Error(`${what}: no output '${output}'`);
    const data = readFloat(out, what);
    // Copy: some runtimes reuse or free output buffers on dispose.
    return { data: data === out.data ? data.slice() : data, dims: out.dims };
  } finally {
    for (const t of Object.values(outputs)) t.dispose?.();
  }
}

function expectDims(what: string, dims: readonly number[], want: number[]): void {
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new Error(`${what}: output is [${dims.join(', ')}], expected [${want.join(', ')}]`);
  }
}

function tileCount(grid: TileRect[][]): number {
  return grid.length * grid[0].length;
}

async function encodeTiled(
  ctx: Ctx,
  session: EngineSession,
  io: PackInterface['encoder'],
  image: PlanarImage,
  m: PackManifest,
  grid: TileRect[][],
): Promise<PlanarImage> {
  const f = m.vae.downscaleFactor;
  const C = m.vae.latentChannels;
  const outC = io.output === 'latent_parameters' ? 2 * C : C;
  const canvas = new BlendCanvas(C, image.width / f, image.height / f);
  const single = tileCount(grid) === 1;
  for (const row of grid) {
    for (const t of row) {
      ctx.signal?.throwIfAborted();
      const crop = single ? image : cropPlanar(image, t.x, t.y, t.width, t.height);
      const input = floatTensor(ctx.tensors, io.type, crop.data, [1, 3, t.height, t.width]);
      const { data, dims } = await runOnce(session, { sample: input }, io.output, 'vae_encoder');
      const lw = t.width / f;
      const lh = t.height / f;
      expectDims('vae_encoder', dims, [1, outC, lh, lw]);
      // latent_parameters stacks mean then log-variance on channels: the mean is the first C planes.
      const mean = data.subarray(0, C * lw * lh);
      ctx.step();
      if (single) return { channels: C, width: lw, height: lh, data: mean.slice() };
      const r = neighbourRamps(grid, t);
      const ramps = { left: r.left / f, right: r.right / f, top: r.top / f, bottom: r.bottom / f };
      canvas.add(mean, t.x / f, t.y / f, lw, lh, featherWeights(lw, lh, ramps));
    }
  }
  return {
    channels: C,
    width: canvas.width,
    height: canvas.height,
    data: canvas.resolveRows(new Float32Array(canvas.sum.length)),
  };
}

/** The mean (first `C` planes) of a segmented encoder's latent_parameters. */
function meanOf(params: PlanarImage, C: number): PlanarImage {
  const n = params.width * params.height;
  if (params.channels !== 2 * C) {
    throw new Error(
      `vae_encoder_mid: ${params.channels} output channels, expected ${2 * C} (mean ‖ log-variance)`,
    );
  }
  return {
    channels: C,
    width: params.width,
    height: params.height,
    data: params.data.slice(0, C * n),
  };
}

function timestepTensor(ctx: Ctx, io: NonNullable<PackInterface['unet']>, t: number): EngineTensor {
  const dims = io.timestepDims;
  switch (io.timestepType) {
    case 'int64':
      return ctx.tensors.tensor('int64', BigInt64Array.of(BigInt(Math.round(t))), dims);
    case 'int32':
      return ctx.tensors.tensor('int32', Int32Array.of(Math.round(t)), dims);
    case 'float16':
      return ctx.tensors.tensor('float16', Uint16Array.of(floatToHalf(t)), dims);
    default:
      return ctx.tensors.tensor('float32', Float32Array.of(t), dims);
  }
}

/** The UNet's blended output (ε, x₀ or v, per the manifest) over the whole latent. */
async function unetTiled(
  ctx: Ctx,
  session: EngineSession,
  io: NonNullable<PackInterface['unet']>,
  z: PlanarImage,
  m: PackManifest,
  emb: PackEmbeddings,
  grid: TileRect[][],
  sigma: number,
): Promise<Float32Array> {
  const unet = m.unet!;
  const C = z.channels;
  const guidance = emb.negative ? unet.embeddings.guidanceScale : 1;
  const conds: { ehs: Float32Array; key: 'pos' | 'neg' }[] = [{ ehs: emb.positive, key: 'pos' }];
  if (emb.negative && guidance !== 1) conds.push({ ehs: emb.negative, key: 'neg' });
  const canvas = new BlendCanvas(C, z.width, z.height);
  const single = tileCount(grid) === 1;
  const tw = grid[0][0].width;
  const th = grid[0][0].height;
  const weights = gaussianWeights(tw, th, sigma);
  for (const row of grid) {
    for (const t of row) {
      const crop = single ? z : cropPlanar(z, t.x, t.y, t.width, t.height);
      const results: Float32Array[] = [];
      for (const cond of conds) {
        ctx.signal?.throwIfAborted();
        const feeds = {
          sample: floatTensor(ctx.tensors, io.type, crop.data, [1, C, t.height, t.width]),
          timestep: timestepTensor(ctx, io, unet.timestep),
          encoder_hidden_states: floatTensor(ctx.tensors, io.embeddingType, cond.ehs, emb.shape),
        };
        const { data, dims } = await runOnce(session, feeds, 'out_sample', 'unet');
        expectDims('unet', dims, [1, C, t.height, t.width]);
        results.push(data);
        ctx.step();
      }
      let out = results[0];
      if (results.length === 2) {
        const [pos, neg] = results;
        out = new Float32Array(pos.length);
        for (let i = 0; i < pos.length; i++) out[i] = neg[i] + guidance * (pos[i] - neg[i]);
      }
      if (single) return out;
      canvas.add(out, t.x, t.y, t.width, t.height, weights);
    }
  }
  return canvas.resolveRows(new Float32Array(canvas.sum.length));
}

/** z₀ from the noisy latent and the model output, in place over `out`. */
function predictX0(
  z: Float32Array,
  out: Float32Array,
  unet: NonNullable<PackManifest['unet']>,
): Float32Array {
  const { alpha, sigma } = unet;
  switch (unet.prediction) {
    case 'epsilon':
      for (let i = 0; i < z.length; i++) out[i] = (z[i] - sigma * out[i]) / alpha;
      return out;
    case 'v_prediction':
      for (let i = 0; i < z.length; i++) out[i] = alpha * z[i] - sigma * out[i];
      return out;
    default:
      return out;
  }
}

/** Output bands (rows) and columns the decoder stage streams. */
function streamPlan(
  grid: TileRect[][],
  f: number,
  width: number,
  height: number,
  colorFix: ColorFix,
): { bands: [number, number][]; readyAfterRow: number[]; cols: [number, number][] } {
  const rowEnds = grid.map((row, r) =>
    r < grid.length - 1 ? Math.min(height, grid[r + 1][0].y * f) : height,
  );
  const bands: [number, number][] = [];
  const readyAfterRow: number[] = [];
  let prev = 0;
  for (let r = 0; r < grid.length; r++) {
    let end = rowEnds[r];
    if (colorFix === 'wavelet' && end < height) end -= WAVELET_REACH;
    if (end > prev) {
      bands.push([prev, end]);
      readyAfterRow.push(colorFix === 'adain' ? grid.length - 1 : r);
      prev = end;
    }
  }
  if (prev < height) {
    bands.push([prev, height]);
    readyAfterRow.push(grid.length - 1);
  }
  const xs = [...new Set(grid[0].map((t) => Math.min(width, t.x * f)))].filter((x) => x < width);
  const cols = xs.map((x, i): [number, number] => [x, i < xs.length - 1 ? xs[i + 1] : width]);
  return { bands, readyAfterRow, cols };
}

/** Runs a pack on an RGBA image; returns the restored image at `manifest.input.scale`×. */
export async function runPack(
  sessions: PackSessions & SegmentedDecoderSessions & SegmentedEncoderSessions,
  manifest: PackManifest,
  image: RgbaImage,
  opts: RunPackOptions,
): Promise<RgbaImage> {
  const m = manifest;
  const { signal } = opts;
  if (image.data.length !== image.width * image.height * 4) {
    throw new Error(
      `image data has ${image.data.length} bytes, expected ${image.width * image.height * 4}`,
    );
  }
  signal?.throwIfAborted();
  const io = opts.packInterface ?? checkPackInterface(sessions, m);
  const emb = opts.embeddings;
  if (m.unet) {
    if (!emb) throw new Error('this pack has a UNet: pass its embeddings (loadPack reads them)');
    const [b, n, d] = m.unet.embeddings.shape;
    if (emb.shape.join() !== [b, n, d].join() || emb.positive.length !== b * n * d) {
      throw new Error(
        `embeddings are [${emb.shape.join(', ')}] (${emb.positive.length} values), the manifest says [${b}, ${n}, ${d}]`,
      );
    }
  }
  const colorFix = opts.colorFix ?? 'adain';
  const tiling: LatentTiling = resolveTiling(m, opts.tiling, opts.limits);
  const f = m.vae.downscaleFactor;
  const C = m.vae.latentChannels;
  const scale = m.input.scale;
  const W = image.width * scale;
  const H = image.height * scale;
  const multiple = f * (m.unet ? m.unet.sizeMultiple : 1);
  const Wp = Math.ceil(W / multiple) * multiple;
  const Hp = Math.ceil(H / multiple) * multiple;
  const report = (stage: PipelineStage, start: number, runs: number, klAttention?: KlAttention) =>
    opts.onStage?.({ stage, ms: performance.now() - start, runs, klAttention });

  // Prepare: bicubic upscale (the colour reference), padding, VAE range.
  let t0 = performance.now();
  const withAlpha = hasTransparency(image);
  const gray = isGrayscale(image);
  const rgba = rgbaToPlanar(withAlpha ? bleedTransparentColors(image) : image, withAlpha ? 4 : 3);
  const upAll = resizePlanar(rgba, W, H, m.input.resample);
  clampInPlace(upAll.data, 0, 1);
  const up: PlanarImage = { ...upAll, channels: 3, data: upAll.data.subarray(0, 3 * W * H) };
  const alpha: PlanarImage | undefined = withAlpha
    ? { ...upAll, channels: 1, data: upAll.data.subarray(3 * W * H) }
    : undefined;
  const vaeIn = cropPlanar(up, 0, 0, Wp, Hp);
  remap(vaeIn.data, [0, 1], m.vae.imageRange);

  const encGrid = tileGrid(Wp, Hp, tiling.encoder, f);
  // A segmented KL encoder likewise encodes tiles with whole-image GroupNorm statistics.
  const segEnc = segmentedEncoder(sessions, m, io.encoder.type);
  const useSegEnc = segEnc !== null && tileCount(encGrid) > 1;
  const encRuns = useSegEnc
    ? segmentedEncodeRunCount(segEnc, Wp, Hp, tiling.encoder.tile)
    : tileCount(encGrid);
  const lw = Wp / f;
  const lh = Hp / f;
  const unetGrid = m.unet ? tileGrid(lw, lh, tiling.unet, m.unet.sizeMultiple) : null;
  // A segmented KL decoder decodes tiles with whole-image GroupNorm statistics (seam-free): the
  // stage below then streams its result as a single tile.
  const seg = segmentedDecoder(sessions, m, io.decoder.type);
  const tiledGrid = tileGrid(lw, lh, tiling.decoder, 1);
  const useSeg = seg !== null && tileCount(tiledGrid) > 1;
  const decGrid = useSeg ? [[{ x: 0, y: 0, width: lw, height: lh, row: 0, col: 0 }]] : tiledGrid;
  const decRuns = useSeg
    ? segmentedRunCount(seg, lw, lh, tiling.decoder.tile, opts.klStats)
    : tileCount(decGrid);
  const cfgRuns = emb?.negative && m.unet && m.unet.embeddings.guidanceScale !== 1 ? 2 : 1;
  const totalRuns = encRuns + (unetGrid ? tileCount(unetGrid) * cfgRuns : 0) + decRuns;
  let runs = 0;
  const ctx: Ctx = {
    tensors: opts.tensors,
    signal,
    step: () => opts.onProgress?.(++runs, totalRuns),
  };
  report('prepare', t0, 0);

  // Encode: the latent distribution's mean.
  t0 = performance.now();
  const latent =
    useSegEnc && segEnc
      ? await encodeSegmented(segEnc, vaeIn, {
          tensors: ctx.tensors,
          tile: tiling.encoder.tile,
          signal,
          onRun: ctx.step,
        }).then((p) => meanOf(p, C))
      : await encodeTiled(ctx, sessions.vaeEncoder, io.encoder, vaeIn, m, encGrid);
  report('encode', t0, encRuns, useSegEnc && segEnc ? midAttention(segEnc.mid) : undefined);

  // One UNet step.
  let zDec = latent.data;
  if (m.unet && unetGrid && io.unet && sessions.unet && emb) {
    t0 = performance.now();
    const { scalingFactor: k, shiftFactor: s } = m.vae;
    const z = new Float32Array(latent.data.length);
    for (let i = 0; i < z.length; i++) z[i] = (latent.data[i] - s) * k;
    const zImg: PlanarImage = { channels: C, width: lw, height: lh, data: z };
    const out = await unetTiled(
      ctx,
      sessions.unet,
      io.unet,
      zImg,
      m,
      emb,
      unetGrid,
      tiling.unet.sigma,
    );
    zDec = predictX0(z, out, m.unet);
    for (let i = 0; i < zDec.length; i++) zDec[i] = zDec[i] / k + s;
    report('unet', t0, tileCount(unetGrid) * cfgRuns);
  }

  // Decode, streaming finished rows.
  t0 = performance.now();
  let fixMs = 0;
  const [lo, hi] = m.vae.imageRange;
  const canvas = new BlendCanvas(3, Wp, Hp);
  const decoded = createPlanar(3, W, H);
  const output = colorFix === 'none' ? decoded : createPlanar(3, W, H);
  const result = createImage(W, H);
  const plan = streamPlan(decGrid, f, W, H, colorFix);
  const total = plan.bands.length * plan.cols.length;
  let done = 0;
  let nextBand = 0;
  let resolved = 0;
  let stats: { content: ChannelStats; style: ChannelStats } | null = null;
  const zLatent: PlanarImage = { channels: C, width: lw, height: lh, data: zDec };
  const singleDec = tileCount(decGrid) === 1;

  const emitBands = (afterRow: number) => {
    const start = performance.now();
    while (nextBand < plan.bands.length && plan.readyAfterRow[nextBand] <= afterRow) {
      const [y0, y1] = plan.bands[nextBand++];
      if (colorFix === 'wavelet') waveletRows(decoded, up, output, y0, y1);
      else if (colorFix === 'adain') {
        stats ??= { content: channelStats(decoded), style: channelStats(up) };
        adainRows(decoded, stats.content, stats.style, output, y0, y1);
      }
      if (gray) {
        const n = W * H;
        for (let i = y0 * W; i < y1 * W; i++) {
          const v = (output.data[i] + output.data[n + i] + output.data[2 * n + i]) / 3;
          output.data[i] = output.data[n + i] = output.data[2 * n + i] = v;
        }
      }
      for (const [x0, x1] of plan.cols) {
        const rect: Rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
        const data = planarRectToRgba(output, rect, alpha);
        pasteRect(result, rect, data);
        opts.onTile?.({ rect, data, done: ++done, total });
      }
    }
    fixMs += performance.now() - start;
  };

  for (let r = 0; r < decGrid.length; r++) {
    for (const t of decGrid[r]) {
      signal?.throwIfAborted();
      const crop = singleDec ? zLatent : cropPlanar(zLatent, t.x, t.y, t.width, t.height);
      const { data, dims } =
        useSeg && seg
          ? await decodeSegmented(seg, zLatent, {
              tensors: ctx.tensors,
              tile: tiling.decoder.tile,
              mode: opts.klStats,
              signal,
              onRun: ctx.step,
            }).then((d) => ({ data: d.data, dims: [1, 3, d.height, d.width] }))
          : await runOnce(
              sessions.vaeDecoder,
              {
                latent_sample: floatTensor(ctx.tensors, io.decoder.type, crop.data, [
                  1,
                  C,
                  t.height,
                  t.width,
                ]),
              },
              'sample',
              'vae_decoder',
            );
      const pw = t.width * f;
      const ph = t.height * f;
      expectDims('vae_decoder', dims, [1, 3, ph, pw]);
      const r4 = neighbourRamps(decGrid, t);
      const ramps = {
        left: r4.left * f,
        right: r4.right * f,
        top: r4.top * f,
        bottom: r4.bottom * f,
      };
      canvas.add(
        data,
        t.x * f,
        t.y * f,
        pw,
        ph,
        singleDec ? new Float32Array(pw * ph).fill(1) : featherWeights(pw, ph, ramps),
      );
      if (!useSeg) ctx.step();
    }
    // Rows above the next tile row are final: normalize, crop, map to [0, 1] and clamp them.
    const finalRows = Math.min(H, r < decGrid.length - 1 ? decGrid[r + 1][0].y * f : Hp);
    const k = 1 / (hi - lo);
    for (let c = 0; c < 3; c++) {
      for (let y = resolved; y < finalRows; y++) {
        const src = c * Wp * Hp + y * Wp;
        const dst = c * W * H + y * W;
        for (let x = 0; x < W; x++) {
          const w = canvas.weight[y * Wp + x];
          const v = ((w > 0 ? canvas.sum[src + x] / w : 0) - lo) * k;
          decoded.data[dst + x] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
    }
    resolved = Math.max(resolved, finalRows);
    if (colorFix !== 'adain') emitBands(r);
  }
  // Colour fixing and streaming of bands during decoding is not decoder time.
  opts.onStage?.({
    stage: 'decode',
    ms: performance.now() - t0 - fixMs,
    runs: decRuns,
    klAttention: useSeg && seg ? midAttention(seg.mid) : undefined,
  });
  emitBands(decGrid.length - 1);
  opts.onStage?.({ stage: 'colorfix', ms: fixMs, runs: 0 });
  return result;
}
