/**
 * The diffusers building blocks shared by UNet2DConditionModel and AutoencoderKL, each described
 * once as a plan (channels, heads, names) from which both the expected tensor list (names and
 * shapes exactly as diffusers saves them) and the ONNX subgraph are derived.
 *
 * - ResnetBlock2D: GroupNorm → SiLU → conv1 (+ time_emb_proj(SiLU(temb))) → GroupNorm → SiLU →
 *   conv2, plus the input (1×1 conv_shortcut when the channel count changes).
 * - Transformer2DModel: GroupNorm(eps 1e-6) → proj_in (Linear or 1×1 conv) → BasicTransformerBlocks
 *   (LayerNorm → self-attention, LayerNorm → cross-attention, LayerNorm → GEGLU feed-forward, each
 *   residual) → proj_out, plus the input.
 * - Attention (AutoencoderKL mid block): GroupNorm → single-head self-attention with biases → plus
 *   the input.
 * - Downsample2D (3×3 stride-2 conv) and Upsample2D (nearest ×2, 3×3 conv).
 */
import type { TensorSpec } from '../../weight-source.ts';
import type { SdGraph } from './sd-graph.ts';

export interface ResnetPlan {
  prefix: string;
  inChannels: number;
  outChannels: number;
  /** Time-embedding width (absent in the VAE). */
  tembChannels?: number;
  groups: number;
  eps: number;
  /** Output divided by this (diffusers' output_scale_factor). */
  outputScale: number;
}

export interface TransformerPlan {
  prefix: string;
  channels: number;
  heads: number;
  layers: number;
  crossAttentionDim: number;
  linearProjection: boolean;
  groups: number;
  upcastAttention: boolean;
}

export interface VaeAttentionPlan {
  prefix: string;
  channels: number;
  groups: number;
  eps: number;
}

/** Down/Upsample2D: a conv named `${prefix}.conv` with this many channels in and out. */
export interface SamplerPlan {
  prefix: string;
  channels: number;
}

const spec = (name: string, ...shape: number[]): TensorSpec => ({ name, shape });

const norm = (prefix: string, c: number): TensorSpec[] => [
  spec(`${prefix}.weight`, c),
  spec(`${prefix}.bias`, c),
];

const conv = (prefix: string, out: number, inp: number, k: number): TensorSpec[] => [
  spec(`${prefix}.weight`, out, inp, k, k),
  spec(`${prefix}.bias`, out),
];

const linear = (prefix: string, out: number, inp: number, bias = true): TensorSpec[] =>
  bias
    ? [spec(`${prefix}.weight`, out, inp), spec(`${prefix}.bias`, out)]
    : [spec(`${prefix}.weight`, out, inp)];

export function resnetSpecs(p: ResnetPlan): TensorSpec[] {
  const { prefix: n, inChannels: i, outChannels: o } = p;
  return [
    ...norm(`${n}.norm1`, i),
    ...conv(`${n}.conv1`, o, i, 3),
    ...(p.tembChannels ? linear(`${n}.time_emb_proj`, o, p.tembChannels) : []),
    ...norm(`${n}.norm2`, o),
    ...conv(`${n}.conv2`, o, o, 3),
    ...(i !== o ? conv(`${n}.conv_shortcut`, o, i, 1) : []),
  ];
}

export function transformerSpecs(p: TransformerPlan): TensorSpec[] {
  const c = p.channels;
  const inner = c; // heads × (channels / heads)
  const proj = (name: string, out: number, inp: number) =>
    p.linearProjection ? linear(name, out, inp) : conv(name, out, inp, 1);
  const specs = [...norm(`${p.prefix}.norm`, c), ...proj(`${p.prefix}.proj_in`, inner, c)];
  for (let k = 0; k < p.layers; k++) {
    const b = `${p.prefix}.transformer_blocks.${k}`;
    specs.push(
      ...norm(`${b}.norm1`, inner),
      ...linear(`${b}.attn1.to_q`, inner, inner, false),
      ...linear(`${b}.attn1.to_k`, inner, inner, false),
      ...linear(`${b}.attn1.to_v`, inner, inner, false),
      ...linear(`${b}.attn1.to_out.0`, inner, inner),
      ...norm(`${b}.norm2`, inner),
      ...linear(`${b}.attn2.to_q`, inner, inner, false),
      ...linear(`${b}.attn2.to_k`, inner, p.crossAttentionDim, false),
      ...linear(`${b}.attn2.to_v`, inner, p.crossAttentionDim, false),
      ...linear(`${b}.attn2.to_out.0`, inner, inner),
      ...norm(`${b}.norm3`, inner),
      ...linear(`${b}.ff.net.0.proj`, inner * 8, inner),
      ...linear(`${b}.ff.net.2`, inner, inner * 4),
    );
  }
  specs.push(...proj(`${p.prefix}.proj_out`, c, inner));
  return specs;
}

export function vaeAttentionSpecs(p: VaeAttentionPlan): TensorSpec[] {
  const c = p.channels;
  return [
    ...norm(`${p.prefix}.group_norm`, c),
    ...linear(`${p.prefix}.to_q`, c, c),
    ...linear(`${p.prefix}.to_k`, c, c),
    ...linear(`${p.prefix}.to_v`, c, c),
    ...linear(`${p.prefix}.to_out.0`, c, c),
  ];
}

export function samplerSpecs(p: SamplerPlan): TensorSpec[] {
  return conv(`${p.prefix}.conv`, p.channels, p.channels, 3);
}

export function convSpecs(prefix: string, out: number, inp: number, k: number): TensorSpec[] {
  return conv(prefix, out, inp, k);
}

export function normSpecs(prefix: string, c: number): TensorSpec[] {
  return norm(prefix, c);
}

// ---------------------------------------------------------------------------------------------
// Graph emitters.

/** ResnetBlock2D; `tembAct` is SiLU(temb) [B, T] (computed once per graph). */
export function resnet(sd: SdGraph, p: ResnetPlan, x: string, tembAct?: string): string {
  let h = sd.silu(sd.groupNorm(`${p.prefix}.norm1`, x, p.groups, p.eps));
  h = sd.conv(`${p.prefix}.conv1`, h);
  if (p.tembChannels) {
    if (!tembAct) throw new Error(`${p.prefix}: needs the time embedding`);
    const t = sd.linear(`${p.prefix}.time_emb_proj`, tembAct);
    h = sd.add(h, sd.g.node('Unsqueeze', [t, sd.g.constI64('hw_axes', [2, 3])]));
  }
  h = sd.silu(sd.groupNorm(`${p.prefix}.norm2`, h, p.groups, p.eps));
  h = sd.conv(`${p.prefix}.conv2`, h);
  const skip = p.inChannels !== p.outChannels ? sd.conv(`${p.prefix}.conv_shortcut`, x) : x;
  const out = sd.add(skip, h);
  return p.outputScale === 1 ? out : sd.mul(out, sd.scalar('output_scale', 1 / p.outputScale));
}

interface AttentionOptions {
  heads: number;
  /** to_q / to_k / to_v have biases (the VAE's attention). */
  qkvBias: boolean;
  /** Add to_out.0's bias here (false: the caller folds it into a SkipLayerNormalization). */
  outBias: boolean;
  /** Scores and softmax in float32 even in an fp16 graph. */
  upcast: boolean;
}

/** diffusers Attention on tokens: x [B, S, C] attends to ctx [B, L, Cc]; returns to_out(...). */
export function attention(
  sd: SdGraph,
  prefix: string,
  x: string,
  ctx: string,
  o: AttentionOptions,
): string {
  const inner = sd.weights.info(`${prefix}.to_q.weight`)?.shape[0];
  if (!inner) throw new Error(`missing tensor ${prefix}.to_q.weight`);
  const headDim = inner / o.heads;
  let attended: string;
  if (sd.form === 'fused') {
    const q = sd.linear(`${prefix}.to_q`, x, { bias: o.qkvBias });
    const k = sd.linear(`${prefix}.to_k`, ctx, { bias: o.qkvBias });
    const v = sd.linear(`${prefix}.to_v`, ctx, { bias: o.qkvBias });
    attended = sd.g.node(
      'MultiHeadAttention',
      [q, k, v],
      { num_heads: o.heads },
      { domain: 'com.microsoft', name: `${prefix}.mha` },
    );
  } else {
    // 1/√d folded into to_q (and its bias).
    const q = sd.linear(`${prefix}.to_q`, x, { bias: o.qkvBias, scale: 1 / Math.sqrt(headDim) });
    const k = sd.linear(`${prefix}.to_k`, ctx, { bias: o.qkvBias });
    const v = sd.linear(`${prefix}.to_v`, ctx, { bias: o.qkvBias });
    const upcast = o.upcast && sd.precision === 'fp16';
    let qh: string, kt: string, vh: string;
    if (o.heads === 1) {
      qh = q;
      kt = sd.transpose(k, [0, 2, 1]);
      vh = v;
    } else {
      const split = [0, 0, o.heads, headDim];
      qh = sd.transpose(sd.reshape(q, split), [0, 2, 1, 3]);
      kt = sd.transpose(sd.reshape(k, split), [0, 2, 3, 1]);
      vh = sd.transpose(sd.reshape(v, split), [0, 2, 1, 3]);
    }
    if (upcast) {
      qh = sd.cast(qh, 'float32');
      kt = sd.cast(kt, 'float32');
    }
    let probs = sd.g.node('Softmax', [sd.g.node('MatMul', [qh, kt])], { axis: -1 });
    if (upcast) probs = sd.cast(probs, 'graph');
    const out = sd.g.node('MatMul', [probs, vh]);
    attended = o.heads === 1 ? out : sd.reshape(sd.transpose(out, [0, 2, 1, 3]), [0, 0, inner]);
  }
  return sd.linear(`${prefix}.to_out.0`, attended, { bias: o.outBias });
}

/** GEGLU feed-forward: net.0.proj → (h, gate) → h·gelu(gate) → net.2. */
function feedForward(sd: SdGraph, prefix: string, x: string): string {
  const width = sd.weights.info(`${prefix}.net.0.proj.weight`)?.shape[0];
  if (!width) throw new Error(`missing tensor ${prefix}.net.0.proj.weight`);
  const p = sd.linear(`${prefix}.net.0.proj`, x);
  const [h, gate] = sd.g.nodeN(
    'Split',
    [p, sd.g.constI64('geglu_split', [width / 2, width / 2])],
    { axis: -1 },
    { outputs: 2 },
  );
  return sd.linear(`${prefix}.net.2`, sd.mul(h, sd.gelu(gate)));
}

function basicTransformerBlock(
  sd: SdGraph,
  prefix: string,
  x: string,
  ctx: string,
  p: TransformerPlan,
): string {
  const eps = 1e-5;
  const self = { heads: p.heads, qkvBias: false, upcast: p.upcastAttention };
  if (sd.form === 'fused') {
    const n1 = sd.layerNorm(`${prefix}.norm1`, x, eps);
    const a1 = attention(sd, `${prefix}.attn1`, n1, n1, { ...self, outBias: false });
    const [n2, s1] = sd.skipLayerNorm(
      `${prefix}.norm2`,
      a1,
      x,
      sd.param(`${prefix}.attn1.to_out.0.bias`),
      eps,
    );
    const a2 = attention(sd, `${prefix}.attn2`, n2, ctx, { ...self, outBias: false });
    const [n3, s2] = sd.skipLayerNorm(
      `${prefix}.norm3`,
      a2,
      s1,
      sd.param(`${prefix}.attn2.to_out.0.bias`),
      eps,
    );
    return sd.add(feedForward(sd, `${prefix}.ff`, n3), s2);
  }
  let h = x;
  const n1 = sd.layerNorm(`${prefix}.norm1`, h, eps);
  h = sd.add(attention(sd, `${prefix}.attn1`, n1, n1, { ...self, outBias: true }), h);
  const n2 = sd.layerNorm(`${prefix}.norm2`, h, eps);
  h = sd.add(attention(sd, `${prefix}.attn2`, n2, ctx, { ...self, outBias: true }), h);
  const n3 = sd.layerNorm(`${prefix}.norm3`, h, eps);
  return sd.add(feedForward(sd, `${prefix}.ff`, n3), h);
}

/** Transformer2DModel over NCHW `x` with cross-attention to `ctx` [B, L, crossAttentionDim]. */
export function transformer(sd: SdGraph, p: TransformerPlan, x: string, ctx: string): string {
  const c = p.channels;
  let h = sd.groupNorm(`${p.prefix}.norm`, x, p.groups, 1e-6);
  if (p.linearProjection) {
    h = sd.linear(`${p.prefix}.proj_in`, sd.toTokens(h, c));
  } else {
    h = sd.toTokens(sd.conv(`${p.prefix}.proj_in`, h), c);
  }
  for (let k = 0; k < p.layers; k++) {
    h = basicTransformerBlock(sd, `${p.prefix}.transformer_blocks.${k}`, h, ctx, p);
  }
  h = p.linearProjection
    ? sd.fromTokens(sd.linear(`${p.prefix}.proj_out`, h), x)
    : sd.conv(`${p.prefix}.proj_out`, sd.fromTokens(h, x));
  return sd.add(h, x);
}

/** The AutoencoderKL mid-block Attention: single head, biased projections, residual. */
export function vaeAttention(sd: SdGraph, p: VaeAttentionPlan, x: string): string {
  const h = sd.toTokens(sd.groupNorm(`${p.prefix}.group_norm`, x, p.groups, p.eps), p.channels);
  const a = attention(sd, p.prefix, h, h, { heads: 1, qkvBias: true, outBias: true, upcast: true });
  return sd.add(sd.fromTokens(a, x), x);
}

/** Downsample2D: stride-2 conv; `pads` [top, left, bottom, right] ([1,1,1,1] in the UNet, [0,0,1,1] in the VAE). */
export function downsample(sd: SdGraph, p: SamplerPlan, x: string, pads: number[]): string {
  return sd.conv(`${p.prefix}.conv`, x, { stride: 2, pads });
}

/** Upsample2D: nearest ×2 then a 3×3 conv. */
export function upsample(sd: SdGraph, p: SamplerPlan, x: string): string {
  return sd.conv(`${p.prefix}.conv`, sd.upsample2x(x));
}
