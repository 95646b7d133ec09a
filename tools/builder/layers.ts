/**
 * Neural-network layers on top of the shared ONNX GraphBuilder, in one float precision (fp32 or
 * fp16). Architecture modules (TAESD, generated test UNets, next the SD 2.1 UNet and the KL VAE)
 * describe their graphs with these so each layer's ONNX pattern is written once.
 *
 * Every op used here is supported by onnxruntime's CPU, WASM and WebGPU execution providers at
 * opset 17 (GroupNorm is the classic Reshape + InstanceNormalization pattern for that reason).
 */
import { GraphBuilder, float, type DType } from '../onnx/graph-builder.ts';
import { floatToHalf } from '../../engine/latent/float16.ts';
import { toPrecision, type Precision } from './weights.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
  /** Kernel size (taken from the weight shape when omitted). */
  kernel?: number;
}

export class Layers {
  readonly dtype: DType;

  constructor(
    readonly g: GraphBuilder,
    readonly precision: Precision,
  ) {
    this.dtype = precision === 'fp16' ? 'float16' : 'float32';
  }

  /** A float constant in the graph's precision. */
  weight(hint: string, values: Float32Array, dims: number[]): string {
    return this.g.initializer(hint, this.dtype, dims, toPrecision(values, this.precision));
  }

  scalar(hint: string, value: number): string {
    return this.precision === 'fp16'
      ? this.g.initializer(hint, 'float16', [], Uint16Array.of(floatToHalf(value)))
      : this.g.initializer(hint, 'float32', [], Float32Array.of(value));
  }

  /** 2-D convolution; `weight` is [out, in, k, k]. */
  conv2d(
    name: string,
    x: string,
    weight: Float32Array,
    dims: [number, number, number, number],
    bias?: Float32Array,
    opts: Conv2dOptions = {},
  ): string {
    const k = opts.kernel ?? dims[2];
    const pad = opts.pad ?? (k - 1) / 2;
    const stride = opts.stride ?? 1;
    const inputs = [x, this.weight(`${name}.weight`, weight, dims)];
    if (bias) inputs.push(this.weight(`${name}.bias`, bias, [dims[0]]));
    return this.g.node(
      'Conv',
      inputs,
      { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride] },
      { name },
    );
  }

  relu(x: string): string {
    return this.g.node('Relu', [x]);
  }

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  add(a: string, b: string): string {
    return this.g.node('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.g.node('Mul', [a, b]);
  }

  /** x * value (value folded into a scalar initializer). */
  scale(x: string, value: number, hint = 'scale'): string {
    return this.g.node('Mul', [x, this.scalar(hint, value)]);
  }

  /** tanh(x / limit) * limit, TAESD's soft clamp. */
  softClamp(x: string, limit: number): string {
    const t = this.g.node('Tanh', [this.scale(x, 1 / limit, 'clamp_in')]);
    return this.scale(t, limit, 'clamp_out');
  }

  /** Nearest-neighbour ×factor upsampling of an NCHW tensor. */
  upsampleNearest(x: string, factor: number): string {
    const scales = this.g.constF32('upsample_scales', [1, 1, factor, factor]);
    return this.g.node('Resize', [x, '', scales], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  }

  /**
   * GroupNorm over NCHW with per-channel affine: Reshape to [N, G, -1], InstanceNormalization,
   * reshape back, scale and shift.
   */
  groupNorm(
    name: string,
    x: string,
    groups: number,
    gamma: Float32Array,
    beta: Float32Array,
    eps = 1e-5,
  ): string {
    const c = gamma.length;
    const grouped = this.g.node('Reshape', [x, this.g.constI64(`${name}.groups`, [0, groups, -1])]);
    const normed = this.g.node(
      'InstanceNormalization',
      [
        grouped,
        this.weight(`${name}.ones`, new Float32Array(groups).fill(1), [groups]),
        this.weight(`${name}.zeros`, new Float32Array(groups), [groups]),
      ],
      { epsilon: float(eps) },
      { name },
    );
    const back = this.g.node('Reshape', [normed, this.g.node('Shape', [x])]);
    const scaled = this.g.node('Mul', [back, this.weight(`${name}.weight`, gamma, [c, 1, 1])]);
    return this.g.node('Add', [scaled, this.weight(`${name}.bias`, beta, [c, 1, 1])]);
  }

  /** y = x·Wᵀ + b over the last axis; `weight` is [out, in] like torch.nn.Linear. */
  linear(
    name: string,
    x: string,
    weight: Float32Array,
    out: number,
    inp: number,
    bias?: Float32Array,
  ): string {
    const wt = new Float32Array(inp * out);
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inp; i++) wt[i * out + o] = weight[o * inp + i];
    const y = this.g.node(
      'MatMul',
      [x, this.weight(`${name}.weight_t`, wt, [inp, out])],
      {},
      { name },
    );
    return bias ? this.g.node('Add', [y, this.weight(`${name}.bias`, bias, [out])]) : y;
  }

  /** Cast to the graph's float type. */
  toFloat(x: string): string {
    return this.g.node('Cast', [x], { to: this.precision === 'fp16' ? 10 : 1 });
  }
}
