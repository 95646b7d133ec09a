/**
 * A small, real ONNX super-resolution model for engine tests: `depth` 3x3 convolutions with ReLU,
 * DepthToSpace (pixel shuffle) to `scale`, added to a nearest-neighbour upscale of the input.
 * Random but seeded weights; its receptive-field radius (tileMargin) is exactly `depth`.
 */
import { GraphBuilder } from '../../tools/onnx/graph-builder.ts';
import { mulberry32 } from '../../tools/builder/generated/random.ts';

export interface ToyModelOptions {
  scale: number;
  /** Number of 3x3 convolutions (= receptive-field radius). Default 3. */
  depth?: number;
  /** Hidden channels. Default 8. */
  width?: number;
  seed?: number;
  /** Conv biases (default true). Without them an all-zero input gives an all-zero output. */
  bias?: boolean;
  /** Value range of input and output. Default [0, 1]. */
  inputRange?: [number, number];
}

export interface ToyModel {
  bytes: Uint8Array;
  scale: number;
  tileMargin: number;
  inputRange: [number, number];
}

export function buildToySrModel(opts: ToyModelOptions): ToyModel {
  const { scale } = opts;
  const depth = opts.depth ?? 3;
  const width = opts.width ?? 8;
  const inputRange = opts.inputRange ?? [0, 1];
  const span = inputRange[1] - inputRange[0];
  const rand = mulberry32(opts.seed ?? 1);
  const g = new GraphBuilder('toy_sr', 17);
  const input = g.input('input', 'float32', [1, 3, 'h', 'w']);
  let x = input;
  let cin = 3;
  for (let i = 0; i < depth; i++) {
    const last = i === depth - 1;
    const cout = last ? 3 * scale * scale : width;
    const fanIn = cin * 9;
    const w = Float32Array.from(
      { length: cout * fanIn },
      () => (rand() * 2 - 1) * Math.sqrt(3 / fanIn),
    );
    const b = Float32Array.from({ length: cout }, () =>
      opts.bias === false ? 0 : (rand() * 2 - 1) * 0.1 * (i === 0 ? span : 1),
    );
    const wName = g.constF32(`conv${i}_w`, w, [cout, cin, 3, 3]);
    const bName = g.constF32(`conv${i}_b`, b, [cout]);
    x = g.node('Conv', [x, wName, bName], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    if (!last) x = g.node('Relu', [x]);
    cin = cout;
  }
  const detail = g.node('DepthToSpace', [x], { blocksize: scale, mode: 'CRD' });
  const scaled = g.node('Mul', [detail, g.constF32('detail_gain', [0.5])]);
  const scales = g.constF32('scales', [1, 1, scale, scale]);
  const base = g.node('Resize', [input, '', scales], { mode: 'nearest' });
  const sum = g.node('Add', [base, scaled]);
  g.output(sum, 'output', 'float32', [1, 3, 'H', 'W']);
  return { bytes: g.toBytes(), scale, tileMargin: depth, inputRange };
}
