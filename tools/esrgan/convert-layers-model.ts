/**
 * Converts a Keras functional image-to-image model (as stored by TF.js, NHWC) to an ONNX graph in
 * NCHW with the shared GraphBuilder. Covers the layer classes of the UpscalerJS ESRGAN models (RDN
 * and RRDN) and fails loudly on anything else, so a new model version cannot convert silently wrong.
 *
 * NHWC -> NCHW mapping:
 *   Conv2D        kernel HWIO -> OIHW, 'same' padding with odd kernels = symmetric pads (k-1)/2
 *   Concatenate   axis -1 / 3 -> axis 1
 *   UpSampling2D  Resize nearest, asymmetric coordinates, floor rounding (integer factors)
 *   PixelShuffleNx (UpscalerJS custom) tf.depthToSpace(NHWC) = ONNX DepthToSpace mode DCR
 *   MultiplyBeta  (UpscalerJS custom) x * 0.2 (its constructor ignores the serialised config)
 *
 * The graph is then rewritten exactly (exact-rewrites.ts, unless `exactRewrites: false`): the 0.2
 * after a conv is folded into its weights, and Resize -> Conv becomes a low-resolution Conv ->
 * DepthToSpace, so the shipped models have no Resize (the WASM kernels need that).
 */
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { finishSrGraph } from './finish-sr-graph.ts';
import type { KerasLayer, LayersModel } from './tfjs-layers-model.ts';
import type { DecodedWeight } from './tfjs-weights.ts';
import { convolve, inputReach, merge, upsample, type Reach } from './receptive-field.ts';

export type DepthToSpaceMode = 'DCR' | 'CRD';

export interface ConvertOptions {
  /** Mode of the DepthToSpace nodes for PixelShuffle layers. TF's depth_to_space is 'DCR'. */
  pixelShuffleMode?: DepthToSpaceMode;
  /** Clip the output to this range (the model's input range), or null for no clip. */
  clipOutput?: readonly [number, number] | null;
  /** ONNX opset (default 17). */
  opset?: number;
  /** Graph name stored in the model. */
  graphName?: string;
  /** Name of the graph input (default 'input') and output (default 'output'). */
  inputName?: string;
  outputName?: string;
  /**
   * Most inputs per Concat node (default 7); longer concatenations become nested Concats (exact).
   * onnxruntime-web's JSEP WebGPU kernels bind one storage buffer per input plus the output, and
   * a device created with WebGPU's default limit of 8 storage buffers silently miscomputes a
   * 10-input Concat (esrgan-medium's global feature fusion).
   */
  maxConcatInputs?: number;
  /**
   * Apply the exact graph rewrites of exact-rewrites.ts (default true). False gives the graph as
   * the layers map to it (a Resize for UpSampling2D, a Mul for MultiplyBeta), e.g. to check that
   * the rewrites keep the output.
   */
  exactRewrites?: boolean;
}

export interface ConvertedModel {
  /** Serialized ONNX ModelProto. */
  bytes: Uint8Array;
  /** Output pixels per input pixel. */
  scale: number;
  /** Receptive-field radius in input pixels. */
  tileMargin: number;
  opset: number;
  nodeCount: number;
  parameterCount: number;
  /** Keras layer classes seen, with counts. */
  layerClasses: Record<string, number>;
  /** How many times each exact rewrite applied, or null when `exactRewrites` was false. */
  rewrites: Record<string, number> | null;
}

interface Value {
  name: string;
  channels: number;
  reach: Reach;
}

/** The value of MultiplyBeta's multiplier in UpscalerJS (a constant, not read from the config). */
export const MULTIPLY_BETA = 0.2;

export function convertLayersModel(
  model: LayersModel,
  options: ConvertOptions = {},
): ConvertedModel {
  const opset = options.opset ?? 17;
  const pixelShuffleMode = options.pixelShuffleMode ?? 'DCR';
  const g = new GraphBuilder(options.graphName ?? model.graph.name ?? 'model', opset);
  const { graph } = model;
  const usedWeights = new Set<string>();
  const values = new Map<string, Value>();
  const layerClasses: Record<string, number> = {};

  if (graph.input_layers.length !== 1 || graph.output_layers.length !== 1) {
    throw new Error('only single-input, single-output models are supported');
  }

  const weight = (layer: KerasLayer, suffix: string): DecodedWeight => {
    const key = `${layer.name}/${suffix}`;
    const w = model.weights.get(key);
    if (!w) throw new Error(`layer ${layer.name}: weight ${key} not found`);
    usedWeights.add(key);
    return w;
  };

  const inputsOf = (layer: KerasLayer): Value[] => {
    if (layer.inbound_nodes.length !== 1) {
      throw new Error(
        `layer ${layer.name}: ${layer.inbound_nodes.length} inbound nodes (shared layers unsupported)`,
      );
    }
    return layer.inbound_nodes[0].map(([name, nodeIndex, tensorIndex]) => {
      const v = values.get(name);
      if (!v) throw new Error(`layer ${layer.name}: input ${name} is not defined before it`);
      if (nodeIndex !== 0 || tensorIndex !== 0) {
        throw new Error(
          `layer ${layer.name}: input ${name}[${nodeIndex}][${tensorIndex}] unsupported`,
        );
      }
      return v;
    });
  };

  for (const layer of graph.layers) {
    const cls = layer.class_name;
    layerClasses[cls] = (layerClasses[cls] ?? 0) + 1;
    if (values.has(layer.name)) throw new Error(`duplicate layer name ${layer.name}`);
    const c = layer.config;
    let out: Value;
    const pixelShuffle = /^PixelShuffle(\d+)x$/.exec(cls);

    if (cls === 'InputLayer') {
      const shape = c.batch_input_shape as (number | null)[] | undefined;
      if (!shape || shape.length !== 4 || shape[3] !== 3 || (c.dtype ?? 'float32') !== 'float32') {
        throw new Error(
          `input ${layer.name}: expected float32 [batch, h, w, 3], got ${JSON.stringify(shape)}`,
        );
      }
      const name = g.input(options.inputName ?? 'input', 'float32', [1, 3, 'height', 'width']);
      out = { name, channels: 3, reach: inputReach };
    } else if (cls === 'Conv2D') {
      const [x] = single(layer, inputsOf(layer));
      out = conv2d(g, layer, x, weight);
    } else if (cls === 'Activation') {
      const [x] = single(layer, inputsOf(layer));
      out = { ...x, name: activation(g, layer, String(c.activation), x.name) };
    } else if (cls === 'Concatenate') {
      const xs = inputsOf(layer);
      if (c.axis !== 3 && c.axis !== -1)
        throw new Error(`${layer.name}: Concatenate axis ${c.axis}`);
      const name = concat(
        g,
        xs.map((v) => v.name),
        layer.name,
        options.maxConcatInputs ?? 7,
      );
      out = {
        name,
        channels: sum(xs.map((v) => v.channels)),
        reach: merge(xs.map((v) => v.reach)),
      };
    } else if (cls === 'Add') {
      const xs = inputsOf(layer);
      if (xs.length < 2) throw new Error(`${layer.name}: Add of ${xs.length} inputs`);
      if (new Set(xs.map((v) => v.channels)).size !== 1)
        throw new Error(`${layer.name}: Add of unequal channels`);
      // A chain of binary Adds: Keras's Add sums its inputs in order.
      let name = xs[0].name;
      for (let i = 1; i < xs.length; i++) {
        const nodeName = xs.length === 2 ? layer.name : `${layer.name}_${i}`;
        name = g.node('Add', [name, xs[i].name], {}, { name: nodeName });
      }
      out = { name, channels: xs[0].channels, reach: merge(xs.map((v) => v.reach)) };
    } else if (cls === 'MultiplyBeta') {
      const [x] = single(layer, inputsOf(layer));
      if (c.beta !== undefined && c.beta !== MULTIPLY_BETA) {
        throw new Error(
          `${layer.name}: beta ${c.beta}, but UpscalerJS's MultiplyBeta always uses ${MULTIPLY_BETA}`,
        );
      }
      const beta = g.constF32(`${layer.name}_beta`, [MULTIPLY_BETA], []);
      out = { ...x, name: g.node('Mul', [x.name, beta], {}, { name: layer.name }) };
    } else if (pixelShuffle) {
      const [x] = single(layer, inputsOf(layer));
      const block = Number(pixelShuffle[1]);
      if (c.scale !== undefined && c.scale !== block)
        throw new Error(`${layer.name}: scale ${c.scale} in ${cls}`);
      if (x.channels % (block * block) !== 0) {
        throw new Error(
          `${layer.name}: ${x.channels} channels do not split into ${block}x${block} blocks`,
        );
      }
      const name = g.node(
        'DepthToSpace',
        [x.name],
        { blocksize: block, mode: pixelShuffleMode },
        { name: layer.name },
      );
      out = { name, channels: x.channels / (block * block), reach: upsample(x.reach, block) };
    } else if (cls === 'UpSampling2D') {
      const [x] = single(layer, inputsOf(layer));
      const size = c.size as number[];
      if ((c.interpolation ?? 'nearest') !== 'nearest')
        throw new Error(`${layer.name}: interpolation ${c.interpolation}`);
      if ((c.data_format ?? 'channels_last') !== 'channels_last')
        throw new Error(`${layer.name}: ${c.data_format}`);
      if (
        !Array.isArray(size) ||
        size.length !== 2 ||
        size[0] !== size[1] ||
        !Number.isInteger(size[0])
      ) {
        throw new Error(`${layer.name}: size ${JSON.stringify(size)} (equal integer factors only)`);
      }
      const scales = g.constF32(`${layer.name}_scales`, [1, 1, size[0], size[1]]);
      const name = g.node(
        'Resize',
        [x.name, '', scales],
        { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
        { name: layer.name },
      );
      out = { name, channels: x.channels, reach: upsample(x.reach, size[0]) };
    } else {
      throw new Error(`layer ${layer.name}: unsupported layer class ${cls}`);
    }
    values.set(layer.name, out);
  }

  const unused = [...model.weights.keys()].filter((k) => !usedWeights.has(k));
  if (unused.length) throw new Error(`weights not used by any layer: ${unused.join(', ')}`);

  const [outputLayer] = graph.output_layers[0];
  const result = values.get(outputLayer);
  if (!result) throw new Error(`output layer ${outputLayer} not found`);
  if (result.channels !== 3) throw new Error(`output has ${result.channels} channels, expected 3`);
  const finished = finishSrGraph(g, result, {
    clipOutput: options.clipOutput ?? null,
    outputName: options.outputName,
    exactRewrites: options.exactRewrites,
  });
  return { ...finished, opset, layerClasses };
}

function conv2d(
  g: GraphBuilder,
  layer: KerasLayer,
  x: Value,
  weight: (layer: KerasLayer, suffix: string) => DecodedWeight,
): Value {
  const c = layer.config;
  const kernelSize = c.kernel_size as number[];
  const strides = (c.strides as number[] | undefined) ?? [1, 1];
  const dilation = (c.dilation_rate as number[] | undefined) ?? [1, 1];
  const fail = (what: string): never => {
    throw new Error(`Conv2D ${layer.name}: unsupported ${what}`);
  };
  if ((c.data_format ?? 'channels_last') !== 'channels_last') fail(`data_format ${c.data_format}`);
  if (strides.some((s) => s !== 1)) fail(`strides ${strides}`);
  if ((c.groups ?? 1) !== 1) fail(`groups ${c.groups}`);
  if (kernelSize.some((k) => k % 2 !== 1)) fail(`even kernel ${kernelSize}`);
  if (c.padding !== 'same' && !(c.padding === 'valid' && kernelSize.every((k) => k === 1))) {
    fail(`padding ${c.padding} with kernel ${kernelSize}`);
  }

  const kernel = weight(layer, 'kernel');
  const [kh, kw, ci, co] = kernel.shape;
  if (
    kernel.shape.length !== 4 ||
    kh !== kernelSize[0] ||
    kw !== kernelSize[1] ||
    co !== c.filters
  ) {
    fail(`kernel shape ${kernel.shape}`);
  }
  if (ci !== x.channels) fail(`kernel for ${ci} input channels, input has ${x.channels}`);
  const w = g.initializer(
    `${layer.name}_weight`,
    'float32',
    [co, ci, kh, kw],
    hwioToOihw(kernel.data, kh, kw, ci, co),
  );
  const inputs = [x.name, w];
  if (c.use_bias !== false) {
    const bias = weight(layer, 'bias');
    if (bias.shape.length !== 1 || bias.shape[0] !== co) fail(`bias shape ${bias.shape}`);
    inputs.push(g.initializer(`${layer.name}_bias`, 'float32', [co], bias.data));
  }
  const padH = (dilation[0] * (kh - 1)) / 2;
  const padW = (dilation[1] * (kw - 1)) / 2;
  const conv = g.node(
    'Conv',
    inputs,
    {
      kernel_shape: [kh, kw],
      pads: [padH, padW, padH, padW],
      strides: [1, 1],
      dilations: dilation,
      group: 1,
    },
    { name: layer.name },
  );
  const name = activation(g, layer, String(c.activation ?? 'linear'), conv);
  return { name, channels: co, reach: convolve(x.reach, Math.max(padH, padW)) };
}

const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

function activation(g: GraphBuilder, layer: KerasLayer, kind: string, x: string): string {
  if (!(kind in ACTIVATIONS))
    throw new Error(`layer ${layer.name}: unsupported activation ${kind}`);
  const op = ACTIVATIONS[kind];
  return op ? g.node(op, [x], {}, { name: `${layer.name}_${kind}` }) : x;
}

/** Keras Conv2D kernel [kh, kw, in, out] to ONNX Conv weight [out, in, kh, kw]. */
export function hwioToOihw(
  src: Float32Array,
  kh: number,
  kw: number,
  ci: number,
  co: number,
): Float32Array {
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        const base = ((y * kw + x) * ci + i) * co;
        for (let o = 0; o < co; o++) dst[((o * ci + i) * kh + y) * kw + x] = src[base + o];
      }
    }
  }
  return dst;
}

/** Concat on the channel axis, nested so that no node has more than `max` inputs. */
function concat(g: GraphBuilder, names: string[], layerName: string, max: number): string {
  if (!Number.isInteger(max) || max < 2) throw new Error(`maxConcatInputs ${max}: at least 2`);
  let parts = names;
  for (let level = 1; parts.length > max; level++) {
    // Concatenate the first `max` values, keep the rest: one extra copy per level.
    const head = g.node(
      'Concat',
      parts.slice(0, max),
      { axis: 1 },
      { name: `${layerName}_part${level}` },
    );
    parts = [head, ...parts.slice(max)];
  }
  return g.node('Concat', parts, { axis: 1 }, { name: layerName });
}

function single(layer: KerasLayer, xs: Value[]): [Value] {
  if (xs.length !== 1) throw new Error(`layer ${layer.name}: expected one input, got ${xs.length}`);
  return [xs[0]];
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
