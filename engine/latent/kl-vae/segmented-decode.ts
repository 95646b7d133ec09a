/**
 * Seam-free tiled decoding with an AutoencoderKL decoder in its segmented form (the builder's
 * vae_decoder_mid + vae_decoder_up, tools/builder/architectures/sd-vae/segmented.ts):
 *
 * 1. the mid graph (post_quant_conv, conv_in, mid block with attention) runs once, untiled, on
 *    the whole latent — it is at latent resolution, so its attention is exact over the image
 *    (in chunks of query rows where the pack has the chunked form: chunked-attention.ts);
 * 2. the up graph runs over tiles of the mid output whose overlap is at least twice its receptive
 *    reach, so each tile's core (the tile cut at the middle of each overlap) is computed exactly;
 * 3. GroupNorm by GroupNorm, the norm's input is gathered over every tile's core (GroupStats,
 *    float64) and the global statistics are fed to every tile: norm k's input depends only on
 *    norms before k, so pass k yields it exactly. The last pass decodes. Graphs with the
 *    'core-moments' form take the core as the `core` input and return each norm's per-channel
 *    float32 mean and M2 over it (2·C values a norm), merged here with the parallel-variance
 *    update; graphs of the older 'input' form return each norm's whole input, reduced here.
 *
 * 'exact' costs (norms + 1) tiled passes of the up graph; 'fast' measures the statistics with the
 * same passes over a 2×-downscaled copy of the mid output (a quarter of the pixels) and then
 * decodes in one tiled pass with them, which is close but not equal to the untiled decoder.
 * (The up graph computes every output each run; cutting it into per-norm segments would make
 * exact mode cost about one pass.)
 */
import type { EngineSession, EngineTensor, TensorFactory } from '../../session.ts';
import { cropPlanar, createPlanar, type PlanarImage } from '../planar.ts';
import { floatTensor, type FloatType } from '../tensors.ts';
import { tileStarts } from '../tiling.ts';
import { midRunCount, runFor, runMid, type ChunkedMid, type KlMid } from './chunked-attention.ts';
import { GroupStats, type CoreRect } from './group-stats.ts';

export { runFor };

export interface KlNorm {
  /**
   * I/O name stem: inputs `${name}.mean`, `${name}.invstd`; outputs `${name}.core_mean` and
   * `${name}.core_m2` ('core-moments') or `${name}.input` ('input').
   */
  name: string;
  channels: number;
  groups: number;
  eps: number;
  /** Activation pixels per latent pixel at this norm. */
  scale: number;
}

/** What a segmented graph returns of each norm's input (the manifest's `stats`; see the head). */
export type KlStatsForm = 'core-moments' | 'input';

export interface SegmentedKlDecoder {
  /** One session, or the chunked-attention form's three (chunked-attention.ts). */
  mid: KlMid;
  up: EngineSession;
  norms: readonly KlNorm[];
  /** Default 'input' (packs whose manifest has no `stats`). */
  stats?: KlStatsForm;
  /** Latent pixels of context each output pixel of the up graph needs per side. */
  reach: number;
  /** Output pixels per latent pixel. */
  factor: number;
  /** Float type of both graphs' inputs and outputs (default float32). */
  type?: FloatType;
  /** Query rows per chunk of a chunked mid graph's attention (default: attentionRows). */
  attentionRows?: number;
}

export type KlStatsMode = 'exact' | 'fast';

/** The segmented decoder's sessions beside a pack's others (loadPack adds them where present). */
export interface SegmentedDecoderSessions {
  vaeDecoderMid?: EngineSession;
  /** The chunked mid graph's three sessions, where the pack has that form instead of `mid`. */
  vaeDecoderMidPre?: EngineSession;
  vaeDecoderMidAttention?: EngineSession;
  vaeDecoderMidPost?: EngineSession;
  vaeDecoderUp?: EngineSession;
}

/** The mid graph among a pack's sessions: the chunked form where loaded, else the whole one. */
export function midOf(
  whole: EngineSession | undefined,
  pre: EngineSession | undefined,
  attention: EngineSession | undefined,
  post: EngineSession | undefined,
): KlMid | undefined {
  if (pre && attention && post) return { pre, attention, post } satisfies ChunkedMid;
  return whole;
}

export interface SegmentedDecodeOptions {
  tensors: TensorFactory;
  /** Tile edge in latent pixels (raised to 2·reach + 1 where smaller). */
  tile: number;
  /** Default 'exact'. */
  mode?: KlStatsMode;
  signal?: AbortSignal;
  /** Called after each session run. */
  onRun?: () => void;
}

interface Stats {
  mean: Float32Array;
  invstd: Float32Array;
}

interface AxisTile {
  start: number;
  /** Owned range [core0, core1) in latent pixels, absolute. */
  core0: number;
  core1: number;
}

function axisTiles(size: number, tile: number, reach: number): { tiles: AxisTile[]; len: number } {
  const len = Math.min(tile, size);
  const starts = tileStarts(size, len, Math.min(2 * reach, len - 1));
  const tiles = starts.map((start, j) => ({
    start,
    core0: j === 0 ? 0 : Math.floor((start + starts[j - 1] + len) / 2),
    core1: j === starts.length - 1 ? size : Math.floor((starts[j + 1] + start + len) / 2),
  }));
  return { tiles, len };
}

/** Tiles of a w × h latent whose cores are exact for an up graph of `reach`. */
export function segmentedTiles(
  width: number,
  height: number,
  tile: number,
  reach: number,
): { x: AxisTile; y: AxisTile; width: number; height: number }[] {
  const t = Math.max(tile, 2 * reach + 1);
  const xs = axisTiles(width, t, reach);
  const ys = axisTiles(height, t, reach);
  return ys.tiles.flatMap((y) => xs.tiles.map((x) => ({ x, y, width: xs.len, height: ys.len })));
}

/** Each norm's `.mean` / `.invstd` feeds; norms without statistics yet get 0 and 1. */
export function statFeeds(
  dec: { norms: readonly KlNorm[]; type?: FloatType },
  tensors: TensorFactory,
  stats: readonly (Stats | undefined)[],
): Record<string, EngineTensor> {
  const type = dec.type ?? 'float32';
  const feeds: Record<string, EngineTensor> = {};
  dec.norms.forEach((n, i) => {
    const s = stats[i] ?? {
      mean: new Float32Array(n.channels),
      invstd: new Float32Array(n.channels).fill(1),
    };
    feeds[`${n.name}.mean`] = floatTensor(tensors, type, s.mean, [1, n.channels, 1, 1]);
    feeds[`${n.name}.invstd`] = floatTensor(tensors, type, s.invstd, [1, n.channels, 1, 1]);
  });
  return feeds;
}

/** The `core` feed: a tile's core (x0, y0, x1, y1) in the graph's input pixels. */
export function coreFeed(
  tensors: TensorFactory,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): EngineTensor {
  return tensors.tensor('int64', BigInt64Array.from([x0, y0, x1, y1], BigInt), [4]);
}

/**
 * Runs one tile of a segmented graph for `norm` and adds the statistics of its core (`core` in
 * activation pixels of a `width` × `height` activation) to `acc`. `feeds` holds `core` where the
 * form is 'core-moments'.
 */
export async function addTileStats(
  session: EngineSession,
  feeds: Record<string, EngineTensor>,
  norm: KlNorm,
  form: KlStatsForm,
  acc: GroupStats,
  width: number,
  height: number,
  core: CoreRect,
): Promise<void> {
  if (form === 'input') {
    const [act] = await runFor(session, feeds, [`${norm.name}.input`]);
    acc.add(act, width, height, core);
    return;
  }
  const [mean, m2] = await runFor(session, feeds, [
    `${norm.name}.core_mean`,
    `${norm.name}.core_m2`,
  ]);
  acc.addMoments(core.width * core.height, mean, m2);
}

/** Every norm's global statistics over `hidden`, one tiled pass per norm. */
async function measureStats(
  dec: SegmentedKlDecoder,
  hidden: PlanarImage,
  o: SegmentedDecodeOptions,
  known: (Stats | undefined)[] = [],
): Promise<Stats[]> {
  const type = dec.type ?? 'float32';
  const form = dec.stats ?? 'input';
  const tiles = segmentedTiles(hidden.width, hidden.height, o.tile, dec.reach);
  const single = tiles.length === 1;
  const stats = [...known];
  for (let k = 0; k < dec.norms.length; k++) {
    const norm = dec.norms[k];
    const acc = new GroupStats(norm.channels, norm.groups);
    const s = norm.scale;
    for (const t of tiles) {
      o.signal?.throwIfAborted();
      const crop = single ? hidden : cropPlanar(hidden, t.x.start, t.y.start, t.width, t.height);
      const feeds = tileFeeds(dec, o.tensors, stats, t);
      feeds.hidden = floatTensor(o.tensors, type, crop.data, [
        1,
        hidden.channels,
        t.height,
        t.width,
      ]);
      await addTileStats(dec.up, feeds, norm, form, acc, t.width * s, t.height * s, {
        x: (t.x.core0 - t.x.start) * s,
        y: (t.y.core0 - t.y.start) * s,
        width: (t.x.core1 - t.x.core0) * s,
        height: (t.y.core1 - t.y.core0) * s,
      });
      o.onRun?.();
    }
    stats[k] = acc.perChannel(norm.eps);
  }
  return stats as Stats[];
}

/** The statistics feeds of one up-graph tile, and its `core` in the 'core-moments' form. */
function tileFeeds(
  dec: SegmentedKlDecoder,
  tensors: TensorFactory,
  stats: readonly (Stats | undefined)[],
  t: { x: AxisTile; y: AxisTile },
): Record<string, EngineTensor> {
  const feeds = statFeeds(dec, tensors, stats);
  if ((dec.stats ?? 'input') === 'core-moments') {
    feeds.core = coreFeed(
      tensors,
      t.x.core0 - t.x.start,
      t.y.core0 - t.y.start,
      t.x.core1 - t.x.start,
      t.y.core1 - t.y.start,
    );
  }
  return feeds;
}

/** 2×2 box average (edges repeat on odd sizes). */
function halve(img: PlanarImage): PlanarImage {
  const w = Math.ceil(img.width / 2);
  const h = Math.ceil(img.height / 2);
  const out = createPlanar(img.channels, w, h);
  const { width: W, height: H } = img;
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < h; y++) {
      const y0 = 2 * y;
      const y1 = Math.min(H - 1, y0 + 1);
      for (let x = 0; x < w; x++) {
        const x0 = 2 * x;
        const x1 = Math.min(W - 1, x0 + 1);
        const b = c * W * H;
        out.data[c * w * h + y * w + x] =
          (img.data[b + y0 * W + x0] +
            img.data[b + y0 * W + x1] +
            img.data[b + y1 * W + x0] +
            img.data[b + y1 * W + x1]) /
          4;
      }
    }
  }
  return out;
}

/** Session runs decodeSegmented makes for a latent of this size. */
export function segmentedRunCount(
  dec: Pick<SegmentedKlDecoder, 'norms' | 'reach'> &
    Partial<Pick<SegmentedKlDecoder, 'mid' | 'attentionRows'>>,
  width: number,
  height: number,
  tile: number,
  mode: KlStatsMode = 'exact',
): number {
  const n = segmentedTiles(width, height, tile, dec.reach).length;
  const mid = midRunCount(dec.mid, width * height, dec.attentionRows);
  if (mode === 'exact') return mid + n * (dec.norms.length + 1);
  const small = segmentedTiles(Math.ceil(width / 2), Math.ceil(height / 2), tile, dec.reach).length;
  return mid + small * dec.norms.length + n;
}

/** Decodes a raw (unscaled) latent [C, h, w] to the decoder's output [3, h·f, w·f]. */
export async function decodeSegmented(
  dec: SegmentedKlDecoder,
  latent: PlanarImage,
  o: SegmentedDecodeOptions,
): Promise<PlanarImage> {
  const type = dec.type ?? 'float32';
  const mode = o.mode ?? 'exact';
  o.signal?.throwIfAborted();
  const { width: w, height: h } = latent;
  const hid = await runMid(
    dec.mid,
    'latent_sample',
    'hidden',
    latent.data,
    [1, latent.channels, h, w],
    {
      tensors: o.tensors,
      type,
      rows: dec.attentionRows,
      signal: o.signal,
      onRun: o.onRun,
    },
  );
  const hidden: PlanarImage = { channels: hid.length / (w * h), width: w, height: h, data: hid };
  const stats = await measureStats(dec, mode === 'fast' ? halve(hidden) : hidden, o);

  const f = dec.factor;
  const tiles = segmentedTiles(w, h, o.tile, dec.reach);
  const single = tiles.length === 1;
  const out = createPlanar(3, w * f, h * f);
  const W = w * f;
  const H = h * f;
  for (const t of tiles) {
    o.signal?.throwIfAborted();
    const crop = single ? hidden : cropPlanar(hidden, t.x.start, t.y.start, t.width, t.height);
    const feeds = tileFeeds(dec, o.tensors, stats, t);
    feeds.hidden = floatTensor(o.tensors, type, crop.data, [1, hidden.channels, t.height, t.width]);
    const [sample] = await runFor(dec.up, feeds, ['sample']);
    o.onRun?.();
    const tw = t.width * f;
    const th = t.height * f;
    if (sample.length !== 3 * tw * th) {
      throw new Error(`vae_decoder_up: ${sample.length} output values, expected 3×${th}×${tw}`);
    }
    for (let c = 0; c < 3; c++) {
      for (let y = t.y.core0 * f; y < t.y.core1 * f; y++) {
        const src = c * tw * th + (y - t.y.start * f) * tw - t.x.start * f;
        const dst = c * W * H + y * W;
        out.data.set(
          sample.subarray(src + t.x.core0 * f, src + t.x.core1 * f),
          dst + t.x.core0 * f,
        );
      }
    }
  }
  return out;
}
