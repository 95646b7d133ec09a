/**
 * Graph-emitting helpers for the diffusers families (UNet2DConditionModel, AutoencoderKL). Unlike
 * the eager Layers helpers, every weight is a lazy initializer named after its diffusers tensor:
 * it is read from the WeightSource, converted (transposed, scaled, cast to fp16) and written by
 * the streaming model writer one tensor at a time, so a 3.5 GB checkpoint is never in memory.
 *
 * Two forms of the same graph:
 * - 'plain': standard ONNX opset-17 ops only (runs on every onnxruntime backend);
 * - 'fused': onnxruntime contrib ops (com.microsoft MultiHeadAttention, SkipLayerNormalization,
 *   Gelu) that the CPU, WASM and WebGPU execution providers all implement. (ORT's GroupNorm
 *   contrib op exists only on CUDA/DirectML and BiasSplitGelu only on GPU providers, so neither is
 *   used; GroupNorm is the Reshape + InstanceNormalization pattern in both forms.)
 */
import { GraphBuilder, float, type DType, type Dim } from '../../../onnx/graph-builder.ts';
import { float32ToHalfArray } from '../../../../engine/latent/float16.ts';
import type { Precision } from '../../weights.ts';
import type { TensorSpec, WeightSource } from '../../weight-source.ts';

export type GraphForm = 'plain' | 'fused';

export interface SdBuildOptions {
  /** Weights and arithmetic. */
  precision: Precision;
  form: GraphForm;
  /**
   * Float type of the graph's inputs and outputs (default fp32). An fp16 graph with fp32 I/O
   * casts at its boundaries, so callers exchange exact float32 values and never convert halves.
   */
  ioPrecision?: Precision;
  opset?: number;
}

export interface ParamOptions {
  /** Initializer dims (default: the tensor's shape). Must hold the same number of values. */
  dims?: number[];
  /** Rewrites the float32 values (transpose, scale) before the precision cast. */
  transform?: (values: Float32Array, shape: readonly number[]) => Float32Array;
}

export class SdGraph {
  readonly g: GraphBuilder;
  readonly dtype: DType;
  /** Float type of the graph's inputs and outputs. */
  readonly ioType: DType;
  readonly precision: Precision;
  readonly form: GraphForm;
  private readonly used = new Set<string>();
  private readonly scalars = new Map<number, string>();

  constructor(
    graphName: string,
    readonly weights: WeightSource,
    opts: SdBuildOptions,
  ) {
    this.precision = opts.precision;
    this.form = opts.form;
    this.g = new GraphBuilder(graphName, opts.opset ?? 17);
    this.dtype = opts.precision === 'fp16' ? 'float16' : 'float32';
    const io = opts.ioPrecision ?? 'fp32';
    if (io === 'fp16' && opts.precision === 'fp32') {
      throw new Error(`${graphName}: fp16 inputs and outputs need an fp16 graph`);
    }
    this.ioType = io === 'fp16' ? 'float16' : 'float32';
  }

  /** A float graph input in the I/O type, cast to the graph's float type where they differ. */
  floatInput(name: string, shape: Dim[]): string {
    const x = this.g.input(name, this.ioType, shape);
    return this.ioType === this.dtype ? x : this.cast(x, 'graph');
  }

  /** Declares a float graph output in the I/O type (cast from the graph's float type). */
  floatOutput(value: string, name: string, shape: Dim[]): void {
    const v = this.ioType === this.dtype ? value : this.cast(value, 'float32');
    this.g.output(v, name, this.ioType, shape);
  }

  /** A weight from the checkpoint as a lazy initializer. */
  param(name: string, opts: ParamOptions = {}): string {
    const info = this.weights.info(name);
    if (!info) throw new Error(`${this.weights.label}: missing tensor ${name}`);
    const dims = opts.dims ?? [...info.shape];
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (dims.reduce((a, b) => a * b, 1) !== count) {
      throw new Error(`${name}: dims [${dims.join(', ')}] do not hold [${info.shape.join(', ')}]`);
    }
    this.used.add(name);
    const { weights, precision } = this;
    const transform = opts.transform;
    return this.g.lazyInitializer(name, this.dtype, dims, () => {
      if (precision === 'fp16' && !transform && info.dtype === 'F16') {
        const half = weights.f16(name);
        if (half) return half;
      }
      let values = weights.f32(name);
      if (transform) values = transform(values, info.shape);
      return precision === 'fp16' ? float32ToHalfArray(values) : values;
    });
  }

  /** Names in `specs` that no param() call consumed (a builder bug when non-empty). */
  unused(specs: readonly TensorSpec[]): string[] {
    return specs.filter((s) => !this.used.has(s.name)).map((s) => s.name);
  }

  /** A scalar constant in the graph's float type (one initializer per distinct value). */
  scalar(hint: string, value: number): string {
    let name = this.scalars.get(value);
    if (!name) {
      name =
        this.precision === 'fp16'
          ? this.g.initializer(hint, 'float16', [], float32ToHalfArray(Float32Array.of(value)))
          : this.g.initializer(hint, 'float32', [], Float32Array.of(value));
      this.scalars.set(value, name);
    }
    return name;
  }

  constFloat(hint: string, values: number[], dims: number[]): string {
    const data = Float32Array.from(values);
    return this.precision === 'fp16'
      ? this.g.initializer(hint, 'float16', dims, float32ToHalfArray(data))
      : this.g.initializer(hint, 'float32', dims, data);
  }

  /** 2-D convolution `${prefix}.weight` [out, in, k, k] (+ `.bias`); pads [top, left, bottom, right]. */
  conv(
    prefix: string,
    x: string,
    opts: { stride?: number; pads?: number[]; bias?: boolean } = {},
  ): string {
    const shape = this.weights.info(`${prefix}.weight`)?.shape;
    if (!shape || shape.length !== 4) throw new Error(`${prefix}.weight is not a conv kernel`);
    const k = shape[2];
    const p = (k - 1) / 2;
    const inputs = [x, this.param(`${prefix}.weight`)];
    if (opts.bias ?? true) inputs.push(this.param(`${prefix}.bias`));
    const stride = opts.stride ?? 1;
    return this.g.node(
      'Conv',
      inputs,
      {
        kernel_shape: [shape[2], shape[3]],
        pads: opts.pads ?? [p, p, p, p],
        strides: [stride, stride],
      },
      { name: prefix },
    );
  }

  /**
   * torch.nn.Linear over the last axis: `${prefix}.weight` [out, in] becomes a MatMul by its
   * transpose (times `scale`, folded into the weights). The bias is added unless `bias` is false.
   */
  linear(prefix: string, x: string, opts: { bias?: boolean; scale?: number } = {}): string {
    const scale = opts.scale ?? 1;
    const y = this.matmul(prefix, x, scale);
    if (opts.bias === false) return y;
    const bias = this.param(
      `${prefix}.bias`,
      scale === 1 ? {} : { transform: (v) => v.map((b) => b * scale) },
    );
    return this.g.node('Add', [y, bias]);
  }

  /** x · Wᵀ for `${prefix}.weight` [out, in] (no bias). */
  matmul(prefix: string, x: string, scale = 1): string {
    const name = `${prefix}.weight`;
    const shape = this.weights.info(name)?.shape;
    if (!shape || shape.length !== 2) throw new Error(`${name} is not a linear weight`);
    const [out, inp] = shape;
    const w = this.param(name, {
      dims: [inp, out],
      transform: (v) => {
        const t = new Float32Array(v.length);
        for (let o = 0; o < out; o++) {
          const row = o * inp;
          for (let i = 0; i < inp; i++) t[i * out + o] = v[row + i] * scale;
        }
        return t;
      },
    });
    return this.g.node('MatMul', [x, w], {}, { name: prefix });
  }

  /** GroupNorm over NCHW: Reshape [N, G, -1], InstanceNormalization, reshape back, affine. */
  groupNorm(prefix: string, x: string, groups: number, eps: number): string {
    const c = this.weights.info(`${prefix}.weight`)?.shape[0];
    if (!c) throw new Error(`missing tensor ${prefix}.weight`);
    const grouped = this.g.node('Reshape', [
      x,
      this.g.constI64(`${prefix}.groups`, [0, groups, -1]),
    ]);
    const normed = this.g.node(
      'InstanceNormalization',
      [
        grouped,
        this.constFloat(`${prefix}.ones`, new Array<number>(groups).fill(1), [groups]),
        this.constFloat(`${prefix}.zeros`, new Array<number>(groups).fill(0), [groups]),
      ],
      { epsilon: float(eps) },
      { name: prefix },
    );
    const back = this.g.node('Reshape', [normed, this.g.node('Shape', [x])]);
    const scaled = this.g.node('Mul', [back, this.param(`${prefix}.weight`, { dims: [c, 1, 1] })]);
    return this.g.node('Add', [scaled, this.param(`${prefix}.bias`, { dims: [c, 1, 1] })]);
  }

  /** LayerNorm over the last axis (ONNX LayerNormalization, opset 17). */
  layerNorm(prefix: string, x: string, eps: number): string {
    return this.g.node(
      'LayerNormalization',
      [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)],
      { axis: -1, epsilon: float(eps) },
      { name: prefix },
    );
  }

  /**
   * com.microsoft SkipLayerNormalization: LN(x + skip + bias) and the sum itself, for the fused
   * form's residual-then-norm pairs.
   */
  skipLayerNorm(
    prefix: string,
    x: string,
    skip: string,
    bias: string,
    eps: number,
  ): [string, string] {
    // `prefix` names one norm of one block, so these names are fresh.
    const out = `${prefix}.skip_ln_out`;
    const sum = `${prefix}.skip_ln_sum`;
    this.g.nodeN(
      'SkipLayerNormalization',
      [x, skip, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`), bias],
      { epsilon: float(eps) },
      { domain: 'com.microsoft', outputNames: [out, '', '', sum], name: prefix },
    );
    return [out, sum];
  }

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  /** Exact (erf) GELU: contrib Gelu in the fused form, x·½(1 + erf(x/√2)) in the plain form. */
  gelu(x: string): string {
    if (this.form === 'fused') return this.g.node('Gelu', [x], {}, { domain: 'com.microsoft' });
    const erf = this.g.node('Erf', [
      this.g.node('Mul', [x, this.scalar('inv_sqrt2', Math.SQRT1_2)]),
    ]);
    const half = this.g.node('Mul', [x, this.scalar('half', 0.5)]);
    return this.g.node('Mul', [half, this.g.node('Add', [erf, this.scalar('one', 1)])]);
  }

  add(a: string, b: string): string {
    return this.g.node('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.g.node('Mul', [a, b]);
  }

  concat(values: string[], axis: number): string {
    return this.g.node('Concat', values, { axis });
  }

  reshape(x: string, shape: number[]): string {
    return this.g.node('Reshape', [x, this.g.constI64('shape', shape)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.g.node('Transpose', [x], { perm });
  }

  /** Cast to float32 (to: 1) or the graph's float type. */
  cast(x: string, to: 'float32' | 'graph'): string {
    const code = to === 'float32' || this.precision === 'fp32' ? 1 : 10;
    return this.g.node('Cast', [x], { to: code });
  }

  /** Nearest-neighbour ×2 (F.interpolate(scale_factor=2, mode='nearest')). */
  upsample2x(x: string): string {
    const scales = this.g.constF32('upsample_scales', [1, 1, 2, 2]);
    return this.g.node('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }

  /** NCHW [B, C, H, W] → tokens [B, H·W, C]. */
  toTokens(x: string, channels: number): string {
    return this.transpose(this.reshape(x, [0, channels, -1]), [0, 2, 1]);
  }

  /** Tokens [B, H·W, C] → NCHW with the shape of `like`. */
  fromTokens(tokens: string, like: string): string {
    const t = this.transpose(tokens, [0, 2, 1]);
    return this.g.node('Reshape', [t, this.g.node('Shape', [like])]);
  }
}
