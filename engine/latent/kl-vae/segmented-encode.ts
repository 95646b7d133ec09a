/**
 * Seam-free tiled encoding with an AutoencoderKL encoder in its segmented form (the builder's
 * vae_encoder_down + vae_encoder_mid, tools/builder/architectures/sd-vae/segmented.ts): the down
 * graph (conv_in and the down blocks) runs over image tiles aligned to the downscale factor, with
 * every GroupNorm's statistics gathered over the tiles' cores norm by norm as in
 * segmented-decode.ts; the cores of its output are assembled into the whole latent-resolution
 * activation, and the mid graph (mid block with attention, conv_norm_out, conv_out, quant_conv)
 * runs on it once, untiled (its attention in chunks of query rows where the pack has the chunked
 * form: chunked-attention.ts). Costs (norms + 1) tiled passes of the down graph. In the
 * 'core-moments' form the down graph takes the tile's core in image pixels (`core`) and returns
 * each norm's moments over it at the norm's resolution (multiples of the factor, so exact).
 */
import type { EngineSession, TensorFactory } from '../../session.ts';
import { createPlanar, cropPlanar, type PlanarImage } from '../planar.ts';
import { floatTensor, type FloatType } from '../tensors.ts';
import { tileStarts } from '../tiling.ts';
import { GroupStats } from './group-stats.ts';
import { midRunCount, runMid, type KlMid } from './chunked-attention.ts';
import {
  addTileStats,
  coreFeed,
  runFor,
  statFeeds,
  type KlNorm,
  type KlStatsForm,
} from './segmented-decode.ts';

export interface SegmentedKlEncoder {
  down: EngineSession;
  /** One session, or the chunked-attention form's three (chunked-attention.ts). */
  mid: KlMid;
  /** The down graph's norms; `scale` is activation pixels per image pixel (1, ½, ¼ …). */
  norms: readonly KlNorm[];
  /** Default 'input' (packs whose manifest has no `stats`). */
  stats?: KlStatsForm;
  /** Image pixels of context each output pixel of the down graph needs per side. */
  reach: number;
  /** Image pixels per latent pixel. */
  factor: number;
  type?: FloatType;
  /** Query rows per chunk of a chunked mid graph's attention (default: attentionRows). */
  attentionRows?: number;
}

/** The segmented encoder's sessions beside a pack's others (loadPack adds them where present). */
export interface SegmentedEncoderSessions {
  vaeEncoderDown?: EngineSession;
  vaeEncoderMid?: EngineSession;
  /** The chunked mid graph's three sessions, where the pack has that form instead of `mid`. */
  vaeEncoderMidPre?: EngineSession;
  vaeEncoderMidAttention?: EngineSession;
  vaeEncoderMidPost?: EngineSession;
}

export interface SegmentedEncodeOptions {
  tensors: TensorFactory;
  /** Tile edge in image pixels (rounded to the factor; raised to fit the overlap). */
  tile: number;
  signal?: AbortSignal;
  onRun?: () => void;
}

interface Span {
  start: number;
  core0: number;
  core1: number;
}

/** Tiles along one axis: starts and core bounds multiples of `f`, margins ≥ reach. */
function spans(
  size: number,
  tile: number,
  reach: number,
  f: number,
): { spans: Span[]; len: number } {
  const overlap = Math.ceil((2 * reach + f) / f) * f;
  const len = Math.min(size, Math.max(Math.ceil(tile / f) * f, overlap + f));
  const starts = tileStarts(size, len, Math.min(overlap, len - f), f);
  const cut = (a: number, b: number) => Math.floor((a + b) / 2 / f) * f;
  return {
    len,
    spans: starts.map((start, j) => ({
      start,
      core0: j === 0 ? 0 : cut(start, starts[j - 1] + len),
      core1: j === starts.length - 1 ? size : cut(starts[j + 1], start + len),
    })),
  };
}

/** The image tiles encodeSegmented uses for a W × H image (each `len` pixels per axis). */
export function segmentedEncodeTiles(
  enc: Pick<SegmentedKlEncoder, 'reach' | 'factor'>,
  width: number,
  height: number,
  tile: number,
): { x: Span; y: Span; width: number; height: number }[] {
  const xs = spans(width, tile, enc.reach, enc.factor);
  const ys = spans(height, tile, enc.reach, enc.factor);
  return ys.spans.flatMap((y) => xs.spans.map((x) => ({ x, y, width: xs.len, height: ys.len })));
}

/** Session runs encodeSegmented makes for a W × H image: (norms + 1) tiled passes, then mid. */
export function segmentedEncodeRunCount(
  enc: Pick<SegmentedKlEncoder, 'norms' | 'reach' | 'factor'> &
    Partial<Pick<SegmentedKlEncoder, 'mid' | 'attentionRows'>>,
  width: number,
  height: number,
  tile: number,
): number {
  const tokens = Math.ceil(width / enc.factor) * Math.ceil(height / enc.factor);
  return (
    segmentedEncodeTiles(enc, width, height, tile).length * (enc.norms.length + 1) +
    midRunCount(enc.mid, tokens, enc.attentionRows)
  );
}

/** Encodes a [3, H, W] image (H, W multiples of the factor) to latent_parameters [2C, H/f, W/f]. */
export async function encodeSegmented(
  enc: SegmentedKlEncoder,
  image: PlanarImage,
  o: SegmentedEncodeOptions,
): Promise<PlanarImage> {
  const type = enc.type ?? 'float32';
  const form = enc.stats ?? 'input';
  const f = enc.factor;
  const { width: W, height: H } = image;
  if (W % f || H % f) throw new Error(`image ${W}×${H} is not a multiple of ${f}`);
  const xs = spans(W, o.tile, enc.reach, f);
  const ys = spans(H, o.tile, enc.reach, f);
  const tiles = ys.spans.flatMap((y) => xs.spans.map((x) => ({ x, y })));
  const single = tiles.length === 1;
  const stats: ({ mean: Float32Array; invstd: Float32Array } | undefined)[] = [];
  let hidden: PlanarImage | null = null;
  for (let k = 0; k <= enc.norms.length; k++) {
    const norm = enc.norms[k] as KlNorm | undefined;
    const acc = norm ? new GroupStats(norm.channels, norm.groups) : null;
    for (const { x, y } of tiles) {
      o.signal?.throwIfAborted();
      const crop = single ? image : cropPlanar(image, x.start, y.start, xs.len, ys.len);
      const feeds = statFeeds(enc, o.tensors, stats);
      feeds.sample = floatTensor(o.tensors, type, crop.data, [1, 3, ys.len, xs.len]);
      if (form === 'core-moments') {
        feeds.core = coreFeed(
          o.tensors,
          x.core0 - x.start,
          y.core0 - y.start,
          x.core1 - x.start,
          y.core1 - y.start,
        );
      }
      const s = norm ? norm.scale : 1 / f;
      const aw = xs.len * s;
      const ah = ys.len * s;
      const core = {
        x: (x.core0 - x.start) * s,
        y: (y.core0 - y.start) * s,
        width: (x.core1 - x.core0) * s,
        height: (y.core1 - y.core0) * s,
      };
      if (norm && acc) {
        await addTileStats(enc.down, feeds, norm, form, acc, aw, ah, core);
        o.onRun?.();
        continue;
      }
      const [act] = await runFor(enc.down, feeds, ['hidden']);
      o.onRun?.();
      const C = act.length / (aw * ah);
      hidden ??= createPlanar(C, W / f, H / f);
      const hw = W / f;
      for (let c = 0; c < C; c++) {
        for (let j = 0; j < core.height; j++) {
          const src = c * aw * ah + (core.y + j) * aw + core.x;
          hidden.data.set(
            act.subarray(src, src + core.width),
            c * hw * (H / f) + (y.core0 / f + j) * hw + x.core0 / f,
          );
        }
      }
    }
    if (norm && acc) stats[k] = acc.perChannel(norm.eps);
  }
  const h = hidden!;
  const params = await runMid(
    enc.mid,
    'hidden',
    'latent_parameters',
    h.data,
    [1, h.channels, h.height, h.width],
    { tensors: o.tensors, type, rows: enc.attentionRows, signal: o.signal, onRun: o.onRun },
  );
  return {
    channels: params.length / (h.width * h.height),
    width: h.width,
    height: h.height,
    data: params,
  };
}
