/**
 * The AutoencoderKL decoder in the form that tiles without seams (engine/latent/kl-vae/):
 *
 *   vae_decoder_mid: latent_sample [1, C, h, w] → hidden [1, C_mid, h, w]
 *                    (post_quant_conv, conv_in, mid block with its attention; run untiled — it is
 *                    at latent resolution, so the attention stays exact over the whole latent).
 *                    With an attention, the mid graph comes split at it (ChunkedMidGraphs) so
 *                    that no graph holds the N × N scores of N latent tokens:
 *                      pre:       latent_sample → query [1, N, C] (1/√C folded in), key_t
 *                                 [1, C, N], value [1, N, C] and residual [1, C, h, w] (the
 *                                 attention's input, before its GroupNorm);
 *                      attention: query rows [1, n, C], key_t, value → attention [1, n, C] =
 *                                 softmax(query·key_t)·value (no weights; the engine runs it
 *                                 over chunks of query rows and concatenates);
 *                      post:      attention [1, N, C], residual → hidden (to_out, the residual
 *                                 add, the second resnet);
 *   vae_decoder_up:  hidden → sample [1, 3, h·f, w·f] (up blocks, conv_norm_out, conv_out) with
 *                    every GroupNorm's statistics taken from inputs: for norm `p` the graph takes
 *                    `p.mean` and `p.invstd` [1, C, 1, 1] (per channel, the group's values
 *                    repeated) and applies (x − mean)·invstd·γ + β. It also takes `core` int64
 *                    [4] = (x0, y0, x1, y1), the tile's core in its input pixels, and outputs the
 *                    norm input's float32 moments over that core (scaled to the norm's
 *                    resolution): `p.core_mean` [1, C] and `p.core_m2` [1, C] = Σ(x − core_mean)²
 *                    per channel (StatsForm 'core-moments', the default). The caller merges them
 *                    over every tile's core before feeding the norm's statistics. The older
 *                    'input' form has no `core` and outputs the norm's whole input as `p.input`.
 *
 * and the encoder likewise (vae_encoder_down: conv_in and the down blocks, norms from inputs, run
 * over image tiles; vae_encoder_mid: the mid block, conv_norm_out, conv_out and quant_conv, run
 * untiled at latent resolution). `gendr-web pack` and `convert sd-vae` put both in every pack
 * (addSegmentedVaeToPack, through tools/builder/sd-pack.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parsePackManifest, type PackManifestInput } from '../../../../engine/latent/manifest.ts';
import { writeModelFile, type WriteModelOptions } from '../../../onnx/model-writer.ts';
import { resnet, upsample, vaeAttention, type VaeAttentionPlan } from '../sd-unet/blocks.ts';
import type { SdBuildOptions } from '../sd-unet/graph.ts';
import { SdGraph } from '../sd-unet/sd-graph.ts';
import type { WeightSource } from '../../weight-source.ts';
import type { VaeConfig } from './config.ts';
import { withCurrentVaeNames } from './legacy.ts';
import { planVae, type VaeMidPlan, type VaePlan } from './plan.ts';

/** One GroupNorm of a segmented graph, in the order the graph applies them. */
export interface ExternalNorm {
  /** The diffusers prefix, e.g. `decoder.up_blocks.0.resnets.1.norm2`; also the I/O name stem. */
  name: string;
  channels: number;
  groups: number;
  eps: number;
  /** Activation pixels per input pixel of the graph at this norm (1, 2, 4 …). */
  scale: number;
}

/**
 * What a segmented graph returns of each norm's input: 'core-moments' (the default) its
 * per-channel mean and M2 over the tile's core, 'input' (packs built before) the whole input.
 */
export type StatsForm = 'core-moments' | 'input';

/** An SdGraph whose GroupNorms read their statistics from graph inputs. */
class ExternalNormGraph extends SdGraph {
  readonly norms: ExternalNorm[] = [];
  /** Activation pixels per input pixel where the next norm will be applied. */
  scale = 1;
  private core?: string;
  private readonly coreAt = new Map<number, { starts: string; ends: string; count: string }>();

  constructor(
    name: string,
    weights: WeightSource,
    opts: SdBuildOptions,
    readonly statsForm: StatsForm,
  ) {
    super(name, weights, opts);
  }

  /** The `core` input scaled to activation pixels at `scale`: Slice bounds and pixel count. */
  private coreBounds(scale: number): { starts: string; ends: string; count: string } {
    let b = this.coreAt.get(scale);
    if (b) return b;
    const g = this.g;
    this.core ??= g.input('core', 'int64', [4]);
    const scaled =
      scale >= 1
        ? g.node('Mul', [this.core, g.constI64('core_scale', [scale], [])])
        : g.node('Div', [this.core, g.constI64('core_scale', [Math.round(1 / scale)], [])]);
    const part = (from: number, to: number, of = scaled) =>
      g.node('Slice', [
        of,
        g.constI64('core_from', [from]),
        g.constI64('core_to', [to]),
        g.constI64('core_axis', [0]),
      ]);
    const starts = part(0, 2);
    const ends = part(2, 4);
    const size = g.node('Sub', [ends, starts]);
    const pixels = g.node('Mul', [part(0, 1, size), part(1, 2, size)]);
    b = { starts, ends, count: g.node('Cast', [pixels], { to: 1 }) };
    this.coreAt.set(scale, b);
    return b;
  }

  /** Outputs `x`'s per-channel float32 mean and M2 over the core. */
  private coreMoments(prefix: string, x: string, c: number): void {
    const g = this.g;
    const { starts, ends, count } = this.coreBounds(this.scale);
    let core = g.node('Slice', [x, starts, ends, g.constI64('core_axes', [3, 2])]);
    if (this.precision === 'fp16') core = this.cast(core, 'float32');
    const axes = g.constI64('moment_axes', [2, 3]);
    const sum = g.node('ReduceSum', [core, axes], { keepdims: 1 });
    const mean = g.node('Div', [sum, count]);
    const d = g.node('Sub', [core, mean]);
    const m2 = g.node('ReduceSum', [g.node('Mul', [d, d]), axes], { keepdims: 0 });
    const flat = g.constI64('moment_shape', [1, c]);
    g.output(g.node('Reshape', [mean, flat]), `${prefix}.core_mean`, 'float32', [1, c]);
    g.output(g.node('Reshape', [m2, flat]), `${prefix}.core_m2`, 'float32', [1, c]);
  }

  override groupNorm(prefix: string, x: string, groups: number, eps: number): string {
    const c = this.weights.info(`${prefix}.weight`)?.shape[0];
    if (!c) throw new Error(`missing tensor ${prefix}.weight`);
    this.norms.push({ name: prefix, channels: c, groups, eps, scale: this.scale });
    if (this.statsForm === 'core-moments') this.coreMoments(prefix, x, c);
    else this.floatOutput(x, `${prefix}.input`, [1, c, `${prefix}.h`, `${prefix}.w`]);
    const mean = this.floatInput(`${prefix}.mean`, [1, c, 1, 1]);
    const invstd = this.floatInput(`${prefix}.invstd`, [1, c, 1, 1]);
    const normed = this.g.node('Mul', [this.g.node('Sub', [x, mean]), invstd]);
    const scaled = this.g.node('Mul', [
      normed,
      this.param(`${prefix}.weight`, { dims: [c, 1, 1] }),
    ]);
    return this.g.node('Add', [scaled, this.param(`${prefix}.bias`, { dims: [c, 1, 1] })]);
  }
}

/** A mid graph split at its attention (see the head of this file). */
export interface ChunkedMidGraphs {
  pre: SdGraph;
  attention: SdGraph;
  post: SdGraph;
}

export interface SegmentedVaeDecoder {
  /** The whole mid graph; absent where `chunked` replaces it (mid blocks with an attention). */
  mid?: SdGraph;
  chunked?: ChunkedMidGraphs;
  up: SdGraph;
  norms: ExternalNorm[];
  stats: StatsForm;
  /**
   * Latent pixels each output pixel of the up graph depends on beyond its own, per side: tiles
   * that keep this margin around their cores decode the cores exactly.
   */
  reach: number;
}

function midBlock(sd: SdGraph, m: VaeMidPlan, x: string): string {
  let h = resnet(sd, m.resnets[0], x);
  if (m.attention) h = vaeAttention(sd, m.attention, h);
  return resnet(sd, m.resnets[1], h);
}

/**
 * The mid block split at its attention. `input` adds the pre graph's input and what comes before
 * the mid block; `finish` adds what follows it to the post graph and declares its output.
 */
function chunkedMidBlock(
  name: string,
  m: VaeMidPlan & { attention: VaeAttentionPlan },
  weights: WeightSource,
  opts: SdBuildOptions,
  input: (sd: SdGraph) => string,
  finish: (sd: SdGraph, h: string) => void,
): ChunkedMidGraphs {
  const a = m.attention;
  const c = a.channels;
  const pre = new SdGraph(`${name}_pre`, weights, opts);
  const x = resnet(pre, m.resnets[0], input(pre));
  const tokens = pre.toTokens(pre.groupNorm(`${a.prefix}.group_norm`, x, a.groups, a.eps), c);
  // As blocks.ts's attention (one head): 1/√C folded into to_q and its bias.
  const q = pre.linear(`${a.prefix}.to_q`, tokens, { bias: true, scale: 1 / Math.sqrt(c) });
  const k = pre.linear(`${a.prefix}.to_k`, tokens, { bias: true });
  const v = pre.linear(`${a.prefix}.to_v`, tokens, { bias: true });
  pre.floatOutput(q, 'query', [1, 'tokens', c]);
  pre.floatOutput(pre.transpose(k, [0, 2, 1]), 'key_t', [1, c, 'tokens']);
  pre.floatOutput(v, 'value', [1, 'tokens', c]);
  pre.floatOutput(x, 'residual', [1, c, 'latent_height', 'latent_width']);

  const att = new SdGraph(`${name}_attention`, weights, opts);
  let qh = att.floatInput('query', [1, 'queries', c]);
  let kt = att.floatInput('key_t', [1, c, 'tokens']);
  const vh = att.floatInput('value', [1, 'tokens', c]);
  // Scores and softmax in float32 even in an fp16 graph, as the whole-latent attention.
  const upcast = att.precision === 'fp16';
  if (upcast) {
    qh = att.cast(qh, 'float32');
    kt = att.cast(kt, 'float32');
  }
  let probs = att.g.node('Softmax', [att.g.node('MatMul', [qh, kt])], { axis: -1 });
  if (upcast) probs = att.cast(probs, 'graph');
  att.floatOutput(att.g.node('MatMul', [probs, vh]), 'attention', [1, 'queries', c]);

  const post = new SdGraph(`${name}_post`, weights, opts);
  const attended = post.floatInput('attention', [1, 'tokens', c]);
  const residual = post.floatInput('residual', [1, c, 'latent_height', 'latent_width']);
  const out = post.linear(`${a.prefix}.to_out.0`, attended, { bias: true });
  const h = post.add(post.fromTokens(out, residual), residual);
  finish(post, resnet(post, m.resnets[1], h));
  return { pre, attention: att, post };
}

/** The receptive reach, in latent pixels, of the decoder's up blocks and conv_out. */
export function decoderUpReach(plan: VaePlan): number {
  let reach = 0;
  let scale = 1;
  for (const b of plan.decoder.blocks) {
    reach += (2 * b.resnets.length) / scale; // two 3×3 convs per resnet
    if (b.sampler) {
      scale *= 2;
      reach += 1 / scale; // nearest ×2, then a 3×3 conv at the new resolution
    }
  }
  return Math.ceil(reach + 1 / scale); // conv_out
}

/**
 * How the mid graph is written: 'chunked' (default) splits it at the attention where it has one;
 * 'whole' writes the single mid graph packs had before (still read and run as they were).
 */
export type MidForm = 'chunked' | 'whole';

/** The mid graph in the chosen form: chunked where the block has attention, else whole. */
function midGraphs(
  name: string,
  m: VaeMidPlan,
  weights: WeightSource,
  opts: SdBuildOptions,
  midForm: MidForm,
  input: (sd: SdGraph) => string,
  finish: (sd: SdGraph, h: string) => void,
): { mid?: SdGraph; chunked?: ChunkedMidGraphs } {
  if (m.attention && midForm === 'chunked') {
    const attention = m.attention;
    return { chunked: chunkedMidBlock(name, { ...m, attention }, weights, opts, input, finish) };
  }
  const mid = new SdGraph(name, weights, opts);
  finish(mid, midBlock(mid, m, input(mid)));
  return { mid };
}

export function buildSegmentedVaeDecoder(
  plan: VaePlan,
  weights: WeightSource,
  opts: SdBuildOptions,
  midForm: MidForm = 'chunked',
  statsForm: StatsForm = 'core-moments',
): SegmentedVaeDecoder {
  const c = plan.config;
  const midCh = c.blockOutChannels[c.blockOutChannels.length - 1];
  const input = (sd: SdGraph) => {
    let h = sd.floatInput('latent_sample', [1, c.latentChannels, 'latent_height', 'latent_width']);
    if (c.usePostQuantConv) h = sd.conv('post_quant_conv', h, { pads: [0, 0, 0, 0] });
    return sd.conv('decoder.conv_in', h);
  };
  const finish = (sd: SdGraph, h: string) =>
    sd.floatOutput(h, 'hidden', [1, midCh, 'latent_height', 'latent_width']);
  const { mid, chunked } = midGraphs(
    'vae_decoder_mid',
    plan.decoder.mid,
    weights,
    opts,
    midForm,
    input,
    finish,
  );

  const up = new ExternalNormGraph('vae_decoder_up', weights, opts, statsForm);
  let u = up.floatInput('hidden', [1, midCh, 'latent_height', 'latent_width']);
  for (const b of plan.decoder.blocks) {
    for (const r of b.resnets) u = resnet(up, r, u);
    if (b.sampler) {
      u = upsample(up, b.sampler, u);
      up.scale *= 2;
    }
  }
  u = up.silu(up.groupNorm('decoder.conv_norm_out', u, c.normNumGroups, 1e-6));
  u = up.conv('decoder.conv_out', u);
  up.floatOutput(u, 'sample', [1, c.outChannels, 'height', 'width']);
  return { mid, chunked, up, norms: up.norms, stats: statsForm, reach: decoderUpReach(plan) };
}

/** Pack folders of the segmented decoder's and encoder's graphs. */
export const SEGMENTED_DECODER_FOLDER = 'vae_decoder_segmented';
export const SEGMENTED_ENCODER_FOLDER = 'vae_encoder_segmented';

type SegmentedPackOptions = SdBuildOptions & {
  externalData?: WriteModelOptions['externalData'];
  midForm?: MidForm;
  /** Default 'core-moments'; 'input' writes the form packs had before (still read as it was). */
  statsForm?: StatsForm;
};

/**
 * Writes the segmented graphs `parts` asks for into the pack at `packDir` (beside its plain
 * vae_encoder / vae_decoder, from the same weights) and records them in manifest.json
 * (`vae.segmentedDecoder`, `vae.segmentedEncoder` and `files`).
 */
export function addSegmentedVaeToPack(
  packDir: string,
  weights: WeightSource,
  config: VaeConfig,
  opts: SegmentedPackOptions,
  parts: 'both' | 'encoder' | 'decoder' = 'both',
): void {
  const manifestPath = path.join(packDir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as PackManifestInput;
  const plan = planVae(config);
  const source = withCurrentVaeNames(weights);
  const files = { ...manifest.files };
  const write = (
    sd: SdGraph,
    folder: string,
    name: string,
    externalData = opts.externalData,
  ): string => {
    const rel = `${folder}/${name}.onnx`;
    const written = writeModelFile(sd.g, path.join(packDir, rel), {
      externalData,
      producer: 'gendr-web builder (diffusers)',
    });
    const [model, ...data] = written.files.map((f) => ({
      rel: path.relative(packDir, f.path).split(path.sep).join('/'),
      entry: { bytes: f.bytes, sha256: f.sha256 },
    }));
    files[model.rel] = data.length
      ? { ...model.entry, externalData: data.map((d) => d.rel) }
      : model.entry;
    for (const d of data) files[d.rel] = d.entry;
    return rel;
  };
  const vae = { ...manifest.vae };
  const writeMid = (seg: { mid?: SdGraph; chunked?: ChunkedMidGraphs }, folder: string) =>
    seg.chunked
      ? {
          chunkedMid: {
            pre: write(seg.chunked.pre, folder, 'mid_pre'),
            // No weights: never external data.
            attention: write(seg.chunked.attention, folder, 'mid_attention', 'never'),
            post: write(seg.chunked.post, folder, 'mid_post'),
          },
        }
      : { mid: write(seg.mid!, folder, 'mid') };
  if (parts !== 'encoder') {
    const seg = buildSegmentedVaeDecoder(plan, source, opts, opts.midForm, opts.statsForm);
    vae.segmentedDecoder = {
      ...writeMid(seg, SEGMENTED_DECODER_FOLDER),
      up: write(seg.up, SEGMENTED_DECODER_FOLDER, 'up'),
      reach: seg.reach,
      norms: seg.norms,
      ...(seg.stats === 'core-moments' ? { stats: seg.stats } : {}),
    };
  }
  if (parts !== 'decoder') {
    const seg = buildSegmentedVaeEncoder(plan, source, opts, opts.midForm, opts.statsForm);
    vae.segmentedEncoder = {
      down: write(seg.down, SEGMENTED_ENCODER_FOLDER, 'down'),
      ...writeMid(seg, SEGMENTED_ENCODER_FOLDER),
      reach: seg.reach,
      norms: seg.norms,
      ...(seg.stats === 'core-moments' ? { stats: seg.stats } : {}),
    };
  }
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  const next: PackManifestInput = { ...manifest, vae, files: sorted };
  parsePackManifest(next, manifestPath);
  fs.writeFileSync(manifestPath, `${JSON.stringify(next, null, 2)}\n`);
}

/** Writes the segmented decoder only (see addSegmentedVaeToPack). */
export function addSegmentedDecoderToPack(
  packDir: string,
  weights: WeightSource,
  config: VaeConfig,
  opts: SegmentedPackOptions,
): void {
  addSegmentedVaeToPack(packDir, weights, config, opts, 'decoder');
}

export interface SegmentedVaeEncoder {
  /** sample [1, 3, H, W] → hidden [1, C_last, H/f, W/f]: conv_in and the down blocks. */
  down: SdGraph;
  /** hidden → latent_parameters: mid block, conv_norm_out, conv_out, quant_conv (untiled). */
  mid?: SdGraph;
  /** The same split at the mid block's attention, replacing `mid` where there is one. */
  chunked?: ChunkedMidGraphs;
  /** The down graph's norms; `scale` is activation pixels per image pixel (1, ½, ¼ …). */
  norms: ExternalNorm[];
  stats: StatsForm;
  /** Image pixels of context each hidden pixel needs per side. */
  reach: number;
}

/** The receptive reach, in image pixels, of the encoder's conv_in and down blocks. */
export function encoderDownReach(plan: VaePlan): number {
  let reach = 1; // conv_in
  let step = 1; // image pixels per activation pixel
  for (const b of plan.encoder.blocks) {
    reach += 2 * b.resnets.length * step;
    if (b.sampler) {
      reach += 2 * step; // 3×3 stride 2 over (0, 1)-padded input
      step *= 2;
    }
  }
  return Math.ceil(reach);
}

export function buildSegmentedVaeEncoder(
  plan: VaePlan,
  weights: WeightSource,
  opts: SdBuildOptions,
  midForm: MidForm = 'chunked',
  statsForm: StatsForm = 'core-moments',
): SegmentedVaeEncoder {
  const c = plan.config;
  const last = c.blockOutChannels[c.blockOutChannels.length - 1];
  const down = new ExternalNormGraph('vae_encoder_down', weights, opts, statsForm);
  let h = down.floatInput('sample', [1, c.inChannels, 'height', 'width']);
  h = down.conv('encoder.conv_in', h);
  for (const b of plan.encoder.blocks) {
    for (const r of b.resnets) h = resnet(down, r, h);
    if (b.sampler) {
      h = down.conv(`${b.sampler.prefix}.conv`, h, { stride: 2, pads: [0, 0, 1, 1] });
      down.scale /= 2;
    }
  }
  down.floatOutput(h, 'hidden', [1, last, 'latent_height', 'latent_width']);

  const input = (sd: SdGraph) =>
    sd.floatInput('hidden', [1, last, 'latent_height', 'latent_width']);
  const finish = (sd: SdGraph, h: string) => {
    let m = sd.silu(sd.groupNorm('encoder.conv_norm_out', h, c.normNumGroups, 1e-6));
    m = sd.conv('encoder.conv_out', m);
    if (c.useQuantConv) m = sd.conv('quant_conv', m, { pads: [0, 0, 0, 0] });
    sd.floatOutput(m, 'latent_parameters', [
      1,
      2 * c.latentChannels,
      'latent_height',
      'latent_width',
    ]);
  };
  const { mid, chunked } = midGraphs(
    'vae_encoder_mid',
    plan.encoder.mid,
    weights,
    opts,
    midForm,
    input,
    finish,
  );
  return {
    down,
    mid,
    chunked,
    norms: down.norms,
    stats: statsForm,
    reach: encoderDownReach(plan),
  };
}
