/**
 * A plain float64 reference forward pass of diffusers' UNet2DConditionModel and AutoencoderKL for
 * tiny test configs, written directly from the diffusers modules' forward() code and sharing
 * nothing with the ONNX builder (its own config reading, tensor naming and loops). Batch 1 only;
 * tensors are CHW (images, feature maps) or [tokens, width].
 */
import { parseSafetensors, tensorToFloat32 } from '../../engine/latent/safetensors.ts';

export interface Arr {
  shape: number[];
  data: Float64Array;
}

const arr = (shape: number[], data?: Float64Array): Arr => ({
  shape,
  data: data ?? new Float64Array(shape.reduce((a, b) => a * b, 1)),
});

/** Weights of a safetensors file as float64, by diffusers name. */
export class RefWeights {
  private readonly map = new Map<string, Arr>();

  constructor(bytes: Uint8Array) {
    for (const t of parseSafetensors(bytes).tensors.values()) {
      this.map.set(t.name, { shape: [...t.shape], data: Float64Array.from(tensorToFloat32(t)) });
    }
  }

  get(name: string): Arr {
    const t = this.map.get(name);
    if (!t) throw new Error(`reference: no tensor ${name}`);
    return t;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }
}

// ------------------------------------------------------------------------------ primitive ops

/** Conv2d on CHW with padding [top, left, bottom, right]. */
function conv2d(x: Arr, w: Arr, b: Arr | undefined, stride: number, pad: number[]): Arr {
  const [C, H, W] = x.shape;
  const [O, I, kh, kw] = w.shape;
  if (I !== C) throw new Error(`conv: ${C} channels into a kernel for ${I}`);
  const [pt, pl, pb, pr] = pad;
  const Ho = Math.floor((H + pt + pb - kh) / stride) + 1;
  const Wo = Math.floor((W + pl + pr - kw) / stride) + 1;
  const y = arr([O, Ho, Wo]);
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let s = b ? b.data[o] : 0;
        for (let c = 0; c < C; c++) {
          for (let u = 0; u < kh; u++) {
            const yy = i * stride + u - pt;
            if (yy < 0 || yy >= H) continue;
            for (let v = 0; v < kw; v++) {
              const xx = j * stride + v - pl;
              if (xx < 0 || xx >= W) continue;
              s += x.data[(c * H + yy) * W + xx] * w.data[((o * I + c) * kh + u) * kw + v];
            }
          }
        }
        y.data[(o * Ho + i) * Wo + j] = s;
      }
    }
  }
  return y;
}

function groupNorm(x: Arr, groups: number, gamma: Arr, beta: Arr, eps: number): Arr {
  const [C] = x.shape;
  const hw = x.data.length / C;
  const per = C / groups;
  const y = arr(x.shape);
  for (let g = 0; g < groups; g++) {
    const start = g * per * hw;
    const n = per * hw;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x.data[start + i];
    mean /= n;
    let vari = 0;
    for (let i = 0; i < n; i++) vari += (x.data[start + i] - mean) ** 2;
    vari /= n;
    const inv = 1 / Math.sqrt(vari + eps);
    for (let c = g * per; c < (g + 1) * per; c++) {
      for (let i = 0; i < hw; i++) {
        y.data[c * hw + i] = (x.data[c * hw + i] - mean) * inv * gamma.data[c] + beta.data[c];
      }
    }
  }
  return y;
}

function map(x: Arr, f: (v: number) => number): Arr {
  return arr(x.shape, x.data.map(f));
}

const silu = (x: Arr) => map(x, (v) => v / (1 + Math.exp(-v)));

function add(a: Arr, b: Arr): Arr {
  if (a.data.length !== b.data.length) throw new Error('add: size mismatch');
  return arr(
    a.shape,
    a.data.map((v, i) => v + b.data[i]),
  );
}

/** Linear over rows: x [S, In], weight [Out, In]. */
function linear(x: Arr, w: Arr, b?: Arr): Arr {
  const [S, In] = x.shape;
  const [Out, WIn] = w.shape;
  if (In !== WIn) throw new Error(`linear: ${In} inputs into a weight for ${WIn}`);
  const y = arr([S, Out]);
  for (let s = 0; s < S; s++) {
    for (let o = 0; o < Out; o++) {
      let acc = b ? b.data[o] : 0;
      for (let i = 0; i < In; i++) acc += x.data[s * In + i] * w.data[o * In + i];
      y.data[s * Out + o] = acc;
    }
  }
  return y;
}

function layerNorm(x: Arr, gamma: Arr, beta: Arr, eps: number): Arr {
  const [S, D] = x.shape;
  const y = arr(x.shape);
  for (let s = 0; s < S; s++) {
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x.data[s * D + d];
    mean /= D;
    let vari = 0;
    for (let d = 0; d < D; d++) vari += (x.data[s * D + d] - mean) ** 2;
    vari /= D;
    const inv = 1 / Math.sqrt(vari + eps);
    for (let d = 0; d < D; d++)
      y.data[s * D + d] = (x.data[s * D + d] - mean) * inv * gamma.data[d] + beta.data[d];
  }
  return y;
}

/** erf via erfc's Chebyshev fit (Numerical Recipes, fractional error < 1.2e-7). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** CHW → [HW, C]. */
function toTokens(x: Arr): Arr {
  const [C, H, W] = x.shape;
  const y = arr([H * W, C]);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H * W; i++) y.data[i * C + c] = x.data[c * H * W + i];
  return y;
}

function fromTokens(t: Arr, H: number, W: number): Arr {
  const [S, C] = t.shape;
  const y = arr([C, H, W]);
  for (let c = 0; c < C; c++) for (let i = 0; i < S; i++) y.data[c * S + i] = t.data[i * C + c];
  return y;
}

/** Scaled dot-product attention with `heads` heads: q [S, D], k and v [L, D] → [S, D]. */
function sdpa(q: Arr, k: Arr, v: Arr, heads: number): Arr {
  const [S, D] = q.shape;
  const L = k.shape[0];
  const hd = D / heads;
  const scale = 1 / Math.sqrt(hd);
  const out = arr([S, D]);
  const scores = new Float64Array(L);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let l = 0; l < L; l++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q.data[s * D + h * hd + d] * k.data[l * D + h * hd + d];
        scores[l] = dot * scale;
        max = Math.max(max, scores[l]);
      }
      let sum = 0;
      for (let l = 0; l < L; l++) {
        scores[l] = Math.exp(scores[l] - max);
        sum += scores[l];
      }
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        for (let l = 0; l < L; l++) acc += scores[l] * v.data[l * D + h * hd + d];
        out.data[s * D + h * hd + d] = acc / sum;
      }
    }
  }
  return out;
}

function upsampleNearest2x(x: Arr): Arr {
  const [C, H, W] = x.shape;
  const y = arr([C, 2 * H, 2 * W]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < 2 * H; i++) {
      for (let j = 0; j < 2 * W; j++)
        y.data[(c * 2 * H + i) * 2 * W + j] = x.data[(c * H + (i >> 1)) * W + (j >> 1)];
    }
  }
  return y;
}

function concatChannels(a: Arr, b: Arr): Arr {
  const [Ca, H, W] = a.shape;
  const y = arr([Ca + b.shape[0], H, W]);
  y.data.set(a.data, 0);
  y.data.set(b.data, a.data.length);
  return y;
}

// ----------------------------------------------------------------------------- diffusers modules

const same = (k: number) => {
  const p = (k - 1) / 2;
  return [p, p, p, p];
};

function convNamed(w: RefWeights, name: string, x: Arr, stride = 1, pad?: number[]): Arr {
  const weight = w.get(`${name}.weight`);
  return conv2d(x, weight, w.get(`${name}.bias`), stride, pad ?? same(weight.shape[2]));
}

/** ResnetBlock2D.forward (time_embedding_norm "default", output_scale_factor 1). */
function resnetBlock(
  w: RefWeights,
  n: string,
  x: Arr,
  temb: Arr | undefined,
  groups: number,
  eps: number,
): Arr {
  let h = silu(groupNorm(x, groups, w.get(`${n}.norm1.weight`), w.get(`${n}.norm1.bias`), eps));
  h = convNamed(w, `${n}.conv1`, h);
  if (temb) {
    const t = linear(
      silu(temb),
      w.get(`${n}.time_emb_proj.weight`),
      w.get(`${n}.time_emb_proj.bias`),
    );
    const hw = h.data.length / h.shape[0];
    for (let c = 0; c < h.shape[0]; c++)
      for (let i = 0; i < hw; i++) h.data[c * hw + i] += t.data[c];
  }
  h = silu(groupNorm(h, groups, w.get(`${n}.norm2.weight`), w.get(`${n}.norm2.bias`), eps));
  h = convNamed(w, `${n}.conv2`, h);
  const shortcut = w.has(`${n}.conv_shortcut.weight`)
    ? convNamed(w, `${n}.conv_shortcut`, x, 1, [0, 0, 0, 0])
    : x;
  return add(shortcut, h);
}

/** diffusers Attention (AttnProcessor): to_q/k/v, SDPA, to_out.0. */
function attentionModule(w: RefWeights, n: string, x: Arr, ctx: Arr, heads: number): Arr {
  const bias = (p: string) => (w.has(`${n}.${p}.bias`) ? w.get(`${n}.${p}.bias`) : undefined);
  const q = linear(x, w.get(`${n}.to_q.weight`), bias('to_q'));
  const k = linear(ctx, w.get(`${n}.to_k.weight`), bias('to_k'));
  const v = linear(ctx, w.get(`${n}.to_v.weight`), bias('to_v'));
  return linear(sdpa(q, k, v, heads), w.get(`${n}.to_out.0.weight`), w.get(`${n}.to_out.0.bias`));
}

/** BasicTransformerBlock.forward (layer_norm, self-attn, cross-attn, GEGLU feed-forward). */
function basicTransformerBlock(w: RefWeights, n: string, x: Arr, ctx: Arr, heads: number): Arr {
  const ln = (p: string, v: Arr) =>
    layerNorm(v, w.get(`${n}.${p}.weight`), w.get(`${n}.${p}.bias`), 1e-5);
  let h = x;
  let nh = ln('norm1', h);
  h = add(attentionModule(w, `${n}.attn1`, nh, nh, heads), h);
  nh = ln('norm2', h);
  h = add(attentionModule(w, `${n}.attn2`, nh, ctx, heads), h);
  nh = ln('norm3', h);
  const proj = linear(nh, w.get(`${n}.ff.net.0.proj.weight`), w.get(`${n}.ff.net.0.proj.bias`));
  const [S, twoF] = proj.shape;
  const F = twoF / 2;
  const geglu = arr([S, F]);
  for (let s = 0; s < S; s++) {
    for (let f = 0; f < F; f++)
      geglu.data[s * F + f] = proj.data[s * twoF + f] * gelu(proj.data[s * twoF + F + f]);
  }
  return add(linear(geglu, w.get(`${n}.ff.net.2.weight`), w.get(`${n}.ff.net.2.bias`)), h);
}

/** Transformer2DModel.forward for continuous inputs. */
function transformer2d(
  w: RefWeights,
  n: string,
  x: Arr,
  ctx: Arr,
  heads: number,
  groups: number,
  linearProjection: boolean,
  layers: number,
): Arr {
  const [, H, W] = x.shape;
  let h = groupNorm(x, groups, w.get(`${n}.norm.weight`), w.get(`${n}.norm.bias`), 1e-6);
  if (linearProjection) {
    h = linear(toTokens(h), w.get(`${n}.proj_in.weight`), w.get(`${n}.proj_in.bias`));
  } else {
    h = toTokens(convNamed(w, `${n}.proj_in`, h, 1, [0, 0, 0, 0]));
  }
  for (let k = 0; k < layers; k++)
    h = basicTransformerBlock(w, `${n}.transformer_blocks.${k}`, h, ctx, heads);
  const out = linearProjection
    ? fromTokens(linear(h, w.get(`${n}.proj_out.weight`), w.get(`${n}.proj_out.bias`)), H, W)
    : convNamed(w, `${n}.proj_out`, fromTokens(h, H, W), 1, [0, 0, 0, 0]);
  return add(out, x);
}

/** get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift), max_period 10000. */
export function referenceTimestepEmbedding(
  t: number,
  dim: number,
  flip: boolean,
  shift: number,
): Arr {
  const half = dim / 2;
  const sin: number[] = [];
  const cos: number[] = [];
  for (let i = 0; i < half; i++) {
    const arg = t * Math.exp((-Math.log(10000) * i) / (half - shift));
    sin.push(Math.sin(arg));
    cos.push(Math.cos(arg));
  }
  return arr([1, dim], Float64Array.from(flip ? [...cos, ...sin] : [...sin, ...cos]));
}

type Cfg = Record<string, unknown>;
const list = (v: unknown, n: number): number[] =>
  Array.isArray(v) ? (v as number[]) : Array(n).fill(v);

/** UNet2DConditionModel.forward(sample, timestep, encoder_hidden_states).sample. */
export function referenceUnet(
  cfg: Cfg,
  w: RefWeights,
  sample: Arr,
  timestep: number,
  context: Arr,
): Arr {
  const boc = cfg.block_out_channels as number[];
  const n = boc.length;
  const downTypes = cfg.down_block_types as string[];
  const upTypes = cfg.up_block_types as string[];
  const layers = (cfg.layers_per_block as number) ?? 2;
  const heads = list(cfg.attention_head_dim ?? 8, n);
  const groups = (cfg.norm_num_groups as number) ?? 32;
  const eps = (cfg.norm_eps as number) ?? 1e-5;
  const linearProj = Boolean(cfg.use_linear_projection);
  const tLayers = (cfg.transformer_layers_per_block as number) ?? 1;

  // 1. time
  let emb = referenceTimestepEmbedding(
    timestep,
    boc[0],
    (cfg.flip_sin_to_cos as boolean) ?? true,
    (cfg.freq_shift as number) ?? 0,
  );
  emb = linear(emb, w.get('time_embedding.linear_1.weight'), w.get('time_embedding.linear_1.bias'));
  emb = linear(
    silu(emb),
    w.get('time_embedding.linear_2.weight'),
    w.get('time_embedding.linear_2.bias'),
  );

  // 2. pre-process
  let h = convNamed(w, 'conv_in', sample);

  // 3. down
  const res: Arr[] = [h];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < layers; j++) {
      h = resnetBlock(w, `down_blocks.${i}.resnets.${j}`, h, emb, groups, eps);
      if (downTypes[i] === 'CrossAttnDownBlock2D') {
        h = transformer2d(
          w,
          `down_blocks.${i}.attentions.${j}`,
          h,
          context,
          heads[i],
          groups,
          linearProj,
          tLayers,
        );
      }
      res.push(h);
    }
    if (i < n - 1) {
      h = convNamed(w, `down_blocks.${i}.downsamplers.0.conv`, h, 2, [1, 1, 1, 1]);
      res.push(h);
    }
  }

  // 4. mid
  h = resnetBlock(w, 'mid_block.resnets.0', h, emb, groups, eps);
  h = transformer2d(
    w,
    'mid_block.attentions.0',
    h,
    context,
    heads[n - 1],
    groups,
    linearProj,
    tLayers,
  );
  h = resnetBlock(w, 'mid_block.resnets.1', h, emb, groups, eps);

  // 5. up
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < layers + 1; j++) {
      h = concatChannels(h, res.pop()!);
      h = resnetBlock(w, `up_blocks.${i}.resnets.${j}`, h, emb, groups, eps);
      if (upTypes[i] === 'CrossAttnUpBlock2D') {
        h = transformer2d(
          w,
          `up_blocks.${i}.attentions.${j}`,
          h,
          context,
          heads[n - 1 - i],
          groups,
          linearProj,
          tLayers,
        );
      }
    }
    if (i < n - 1) h = convNamed(w, `up_blocks.${i}.upsamplers.0.conv`, upsampleNearest2x(h));
  }

  // 6. post-process
  h = silu(groupNorm(h, groups, w.get('conv_norm_out.weight'), w.get('conv_norm_out.bias'), eps));
  return convNamed(w, 'conv_out', h);
}

/** UNetMidBlock2D of the VAE: resnet, Attention (1 head, residual), resnet; eps 1e-6. */
function vaeMidBlock(w: RefWeights, n: string, x: Arr, groups: number): Arr {
  let h = resnetBlock(w, `${n}.resnets.0`, x, undefined, groups, 1e-6);
  const [, H, W] = h.shape;
  const a = `${n}.attentions.0`;
  const normed = toTokens(
    groupNorm(h, groups, w.get(`${a}.group_norm.weight`), w.get(`${a}.group_norm.bias`), 1e-6),
  );
  h = add(fromTokens(attentionModule(w, a, normed, normed, 1), H, W), h);
  return resnetBlock(w, `${n}.resnets.1`, h, undefined, groups, 1e-6);
}

/** AutoencoderKL.encode → quant_conv moments [2·latent, h, w] (mean then log-variance). */
export function referenceVaeEncode(cfg: Cfg, w: RefWeights, image: Arr): Arr {
  const boc = cfg.block_out_channels as number[];
  const layers = (cfg.layers_per_block as number) ?? 2;
  const groups = (cfg.norm_num_groups as number) ?? 32;
  let h = convNamed(w, 'encoder.conv_in', image);
  for (let i = 0; i < boc.length; i++) {
    for (let j = 0; j < layers; j++)
      h = resnetBlock(w, `encoder.down_blocks.${i}.resnets.${j}`, h, undefined, groups, 1e-6);
    // Downsample2D with padding 0: F.pad(x, (0, 1, 0, 1)) then a stride-2 conv.
    if (i < boc.length - 1)
      h = convNamed(w, `encoder.down_blocks.${i}.downsamplers.0.conv`, h, 2, [0, 0, 1, 1]);
  }
  h = vaeMidBlock(w, 'encoder.mid_block', h, groups);
  h = silu(
    groupNorm(
      h,
      groups,
      w.get('encoder.conv_norm_out.weight'),
      w.get('encoder.conv_norm_out.bias'),
      1e-6,
    ),
  );
  h = convNamed(w, 'encoder.conv_out', h);
  return convNamed(w, 'quant_conv', h, 1, [0, 0, 0, 0]);
}

/** AutoencoderKL.decode(z): post_quant_conv then the Decoder. */
export function referenceVaeDecode(cfg: Cfg, w: RefWeights, latent: Arr): Arr {
  const boc = cfg.block_out_channels as number[];
  const layers = (cfg.layers_per_block as number) ?? 2;
  const groups = (cfg.norm_num_groups as number) ?? 32;
  let h = convNamed(w, 'post_quant_conv', latent, 1, [0, 0, 0, 0]);
  h = convNamed(w, 'decoder.conv_in', h);
  h = vaeMidBlock(w, 'decoder.mid_block', h, groups);
  for (let i = 0; i < boc.length; i++) {
    for (let j = 0; j < layers + 1; j++)
      h = resnetBlock(w, `decoder.up_blocks.${i}.resnets.${j}`, h, undefined, groups, 1e-6);
    if (i < boc.length - 1)
      h = convNamed(w, `decoder.up_blocks.${i}.upsamplers.0.conv`, upsampleNearest2x(h));
  }
  h = silu(
    groupNorm(
      h,
      groups,
      w.get('decoder.conv_norm_out.weight'),
      w.get('decoder.conv_norm_out.bias'),
      1e-6,
    ),
  );
  return convNamed(w, 'decoder.conv_out', h);
}

/** Largest |a − b| over the largest |b| (the reference's scale). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / maxRef;
}
