/**
 * Converts an ncnn model (text .param + .bin) to an ONNX graph with the shared GraphBuilder. Covers
 * the layers of the Real-ESRGAN ncnn models (RRDBNet and SRVGGNetCompact as converted by
 * Real-ESRGAN-ncnn-vulkan) and fails naming the layer, param or tag it does not know.
 *
 * ncnn -> ONNX (ncnn blobs are CHW, the graph is NCHW with N = 1):
 *   Convolution   Conv (+bias) with its fused activation (9=1 Relu, 9=2 LeakyRelu, 9=3 Clip)
 *   PReLU         PRelu with slopes [C, 1, 1]
 *   Concat        Concat axis 1 (ncnn axis 0 = channels)
 *   Eltwise sum   Add, coefficients other than 1 as Mul by a constant first
 *   BinaryOp add  Add
 *   Interp        Resize nearest, asymmetric, floor (integer factors); bicubic as Resize cubic,
 *                 half_pixel, a = -0.75, edge taps clamped (ncnn's bicubic), to an integer scale
 *   PixelShuffle  DepthToSpace CRD (mode 0 is PyTorch's pixel_shuffle)
 * Then the exact rewrites of tools/esrgan/exact-rewrites.ts apply (0.2 scaling folded into the conv
 * before it, nearest upsample + conv as a low-resolution conv + DepthToSpace).
 */
import { GraphBuilder, float } from '../onnx/graph-builder.ts';
import { finishSrGraph } from '../esrgan/finish-sr-graph.ts';
import {
  convolve,
  inputReach,
  merge,
  reachRadius,
  upsample,
  type Reach,
} from '../esrgan/receptive-field.ts';
import { NcnnBinReader } from './ncnn-bin.ts';
import { arrayParam, checkParams, intParam, parseNcnnParam, type NcnnLayer } from './ncnn-param.ts';

export interface NcnnConvertOptions {
  graphName?: string;
  /** Clip the output to this range, or null for none (default [0, 1]). */
  clipOutput?: readonly [number, number] | null;
  /** Apply the exact rewrites (default true). */
  exactRewrites?: boolean;
  opset?: number;
}

export interface NcnnConverted {
  bytes: Uint8Array;
  scale: number;
  tileMargin: number;
  opset: number;
  nodeCount: number;
  parameterCount: number;
  /** ncnn layer types seen, with counts. */
  layerTypes: Record<string, number>;
  rewrites: Record<string, number> | null;
}

interface Value {
  name: string;
  channels: number;
  reach: Reach;
}

export function convertNcnn(
  paramText: string,
  bin: Uint8Array,
  options: NcnnConvertOptions = {},
  sources: { param?: string; bin?: string } = {},
): NcnnConverted {
  const opset = options.opset ?? 17;
  const param = parseNcnnParam(paramText, sources.param);
  const weights = new NcnnBinReader(bin, sources.bin);
  const g = new GraphBuilder(options.graphName ?? 'ncnn', opset);
  const values = new Map<string, Value>();
  const consumed = new Set<string>();
  const layerTypes: Record<string, number> = {};
  let inputName: string | null = null;

  const get = (layer: NcnnLayer, blob: string): Value => {
    const v = values.get(blob);
    if (!v) throw new Error(`${layer.type} ${layer.name}: blob ${blob} is not defined before it`);
    consumed.add(blob);
    return v;
  };
  const only = (layer: NcnnLayer, bottoms: number, tops: number): void => {
    if (layer.bottoms.length !== bottoms || layer.tops.length !== tops) {
      throw new Error(
        `${layer.type} ${layer.name}: ${layer.bottoms.length} inputs / ${layer.tops.length} outputs, ` +
          `expected ${bottoms} / ${tops}`,
      );
    }
  };

  for (const layer of param.layers) {
    layerTypes[layer.type] = (layerTypes[layer.type] ?? 0) + 1;
    const set = (v: Value): void => {
      values.set(layer.tops[0], v);
    };
    switch (layer.type) {
      case 'Input': {
        only(layer, 0, 1);
        checkParams(layer, [0, 1, 2]);
        if (inputName) throw new Error(`Input ${layer.name}: more than one input`);
        const c = intParam(layer, 2, 3);
        if (c !== 3 && layer.params.has(2)) throw new Error(`Input ${layer.name}: ${c} channels`);
        inputName = g.input('input', 'float32', [1, 3, 'height', 'width']);
        set({ name: inputName, channels: 3, reach: inputReach });
        break;
      }
      case 'Split': {
        checkParams(layer, []);
        if (layer.bottoms.length !== 1) throw new Error(`Split ${layer.name}: not one input`);
        const x = get(layer, layer.bottoms[0]);
        for (const top of layer.tops) values.set(top, x);
        break;
      }
      case 'Convolution':
        only(layer, 1, 1);
        set(convolution(g, layer, get(layer, layer.bottoms[0]), weights));
        break;
      case 'PReLU': {
        only(layer, 1, 1);
        checkParams(layer, [0]);
        const x = get(layer, layer.bottoms[0]);
        const n = intParam(layer, 0, 0);
        if (n !== x.channels) {
          throw new Error(`PReLU ${layer.name}: ${n} slopes for ${x.channels} channels`);
        }
        const slope = g.constF32(`${layer.name}_slope`, weights.raw(n, `${layer.name} slope`), [
          n,
          1,
          1,
        ]);
        set({ ...x, name: g.node('PRelu', [x.name, slope], {}, { name: layer.name }) });
        break;
      }
      case 'Concat': {
        checkParams(layer, [0]);
        if (layer.tops.length !== 1) throw new Error(`Concat ${layer.name}: not one output`);
        if (intParam(layer, 0, 0) !== 0) {
          throw new Error(`Concat ${layer.name}: axis ${intParam(layer, 0, 0)} (channels only)`);
        }
        const xs = layer.bottoms.map((b) => get(layer, b));
        const name = g.node(
          'Concat',
          xs.map((x) => x.name),
          { axis: 1 },
          { name: layer.name },
        );
        set({
          name,
          channels: xs.reduce((n, x) => n + x.channels, 0),
          reach: merge(xs.map((x) => x.reach)),
        });
        break;
      }
      case 'Eltwise': {
        checkParams(layer, [0, 1]);
        if (layer.tops.length !== 1) throw new Error(`Eltwise ${layer.name}: not one output`);
        const op = intParam(layer, 0, 1);
        if (op !== 1) throw new Error(`Eltwise ${layer.name}: op_type ${op} (only 1 = sum)`);
        const xs = layer.bottoms.map((b) => get(layer, b));
        const coeffs = arrayParam(layer, 1) ?? [];
        if (coeffs.length && coeffs.length !== xs.length) {
          throw new Error(`Eltwise ${layer.name}: ${coeffs.length} coefficients for ${xs.length}`);
        }
        const terms = xs.map((x, i) => {
          const c = coeffs[i] ?? 1;
          if (c === 1) return x.name;
          const k = g.constF32(`${layer.name}_coeff${i}`, [c], []);
          return g.node('Mul', [x.name, k], {}, { name: `${layer.name}_scale${i}` });
        });
        let sum = terms[0];
        for (let i = 1; i < terms.length; i++) {
          sum = g.node('Add', [sum, terms[i]], {}, { name: layer.name });
        }
        set({ name: sum, channels: xs[0].channels, reach: merge(xs.map((x) => x.reach)) });
        break;
      }
      case 'BinaryOp': {
        only(layer, 2, 1);
        checkParams(layer, [0, 1, 2]);
        const op = intParam(layer, 0, 0);
        if (op !== 0 || intParam(layer, 1, 0) !== 0) {
          throw new Error(`BinaryOp ${layer.name}: op_type ${op} with_scalar (only tensor add)`);
        }
        const [a, b] = layer.bottoms.map((x) => get(layer, x));
        if (a.channels !== b.channels) throw new Error(`BinaryOp ${layer.name}: channel mismatch`);
        const name = g.node('Add', [a.name, b.name], {}, { name: layer.name });
        set({ name, channels: a.channels, reach: merge([a.reach, b.reach]) });
        break;
      }
      case 'Interp': {
        only(layer, 1, 1);
        checkParams(layer, [0, 1, 2, 6]);
        const x = get(layer, layer.bottoms[0]);
        const type = intParam(layer, 0, 0);
        const sh = intParam(layer, 1, 1);
        const sw = intParam(layer, 2, 1);
        if (intParam(layer, 6, 0) !== 0) throw new Error(`Interp ${layer.name}: align_corner`);
        if (type === 1) {
          if (sh !== sw || !Number.isInteger(sh) || sh < 2) {
            throw new Error(
              `Interp ${layer.name}: scales ${sh} x ${sw} (equal integer factors only)`,
            );
          }
          const name = resize(g, layer, x, sh, {
            mode: 'nearest',
            coordinate_transformation_mode: 'asymmetric',
            nearest_mode: 'floor',
          });
          set({ name, channels: x.channels, reach: upsample(x.reach, sh) });
        } else if (type === 3) {
          set(bicubic(g, layer, x, sh, sw));
        } else {
          throw new Error(
            `Interp ${layer.name}: resize_type ${type} (only 1 = nearest, 3 = bicubic)`,
          );
        }
        break;
      }
      case 'PixelShuffle': {
        only(layer, 1, 1);
        checkParams(layer, [0, 1]);
        const x = get(layer, layer.bottoms[0]);
        const s = intParam(layer, 0, 1);
        const mode = intParam(layer, 1, 0);
        if (mode !== 0) throw new Error(`PixelShuffle ${layer.name}: mode ${mode} (only 0)`);
        if (x.channels % (s * s)) throw new Error(`PixelShuffle ${layer.name}: channels`);
        const name = g.node(
          'DepthToSpace',
          [x.name],
          { blocksize: s, mode: 'CRD' },
          { name: layer.name },
        );
        set({ name, channels: x.channels / (s * s), reach: upsample(x.reach, s) });
        break;
      }
      default:
        throw new Error(`layer ${layer.name}: unsupported ncnn layer type ${layer.type}`);
    }
  }
  weights.assertEnd();

  const outputs = [...values.keys()].filter((b) => !consumed.has(b));
  if (outputs.length !== 1) {
    throw new Error(`expected one output blob, found ${outputs.join(', ') || 'none'}`);
  }
  const result = values.get(outputs[0]);
  if (!result || result.channels !== 3) throw new Error('the output does not have 3 channels');
  const clip = options.clipOutput === undefined ? ([0, 1] as const) : options.clipOutput;
  const finished = finishSrGraph(g, result, {
    clipOutput: clip,
    exactRewrites: options.exactRewrites,
  });
  return { ...finished, opset, layerTypes };
}

/** A Resize of `x` by `s` in both spatial axes. */
function resize(
  g: GraphBuilder,
  layer: NcnnLayer,
  x: Value,
  s: number,
  attrs: Parameters<GraphBuilder['node']>[2],
): string {
  const scales = g.constF32(`${layer.name}_scales`, [1, 1, s, s]);
  return g.node('Resize', [x.name, '', scales], attrs, { name: layer.name });
}

/**
 * ncnn Interp resize_type 3 (the x2 / x3 realesr-animevideov3 files end with one: the x4 net, then
 * bicubic by 0.5 / 0.75). ncnn samples output pixel X at (X + 0.5) / s - 0.5 with 4 taps of
 * Keys' cubic (a = -0.75), folding taps past an edge into the edge pixel: ONNX Resize 'cubic'
 * with 'half_pixel' and exclude_outside 0. The result must lie on an integer grid (the model's
 * scale), so that a tile at input offset t maps to output offset scale * t and tiles stay exact.
 */
function bicubic(g: GraphBuilder, layer: NcnnLayer, x: Value, sh: number, sw: number): Value {
  const grid = x.reach.scale * sh;
  if (sh !== sw || !(sh > 0) || Math.abs(grid - Math.round(grid)) > 1e-9 || grid < 1) {
    throw new Error(
      `Interp ${layer.name}: bicubic scales ${sh} x ${sw} on a x${x.reach.scale} grid ` +
        '(equal factors giving an integer overall scale only)',
    );
  }
  const name = resize(g, layer, x, sh, {
    mode: 'cubic',
    coordinate_transformation_mode: 'half_pixel',
    cubic_coeff_a: float(-0.75),
    exclude_outside: 0,
  });
  return { name, channels: x.channels, reach: bicubicReach(x.reach, Math.round(grid)) };
}

/**
 * The reach after a bicubic resampling from grid r.scale to grid `to` (integers): output pixel P
 * reads grid pixels floor(c) - 1 .. floor(c) + 2, c = (P + 0.5) * r.scale / to - 0.5, each of
 * which reads input pixels floor(Q / r.scale) ± reachRadius(r). Worked out exactly over one period.
 */
export function bicubicReach(r: Reach, to: number): Reach {
  const from = r.scale;
  let radius = 0;
  for (let p = 0; p < from * to; p++) {
    const c = Math.floor(((2 * p + 1) * from - to) / (2 * to));
    const base = Math.floor(p / to);
    radius = Math.max(radius, base - Math.floor((c - 1) / from), Math.floor((c + 2) / from) - base);
  }
  return { scale: to, inputRadius: reachRadius(r) + radius, gridRadius: 0 };
}

const ACTIVATIONS: Record<number, string> = { 0: 'none', 1: 'Relu', 2: 'LeakyRelu', 3: 'Clip' };

function convolution(g: GraphBuilder, layer: NcnnLayer, x: Value, bin: NcnnBinReader): Value {
  checkParams(layer, [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18]);
  const p = (id: number, fallback: number): number => intParam(layer, id, fallback);
  const out = p(0, 0);
  const kw = p(1, 0);
  const kh = p(11, kw);
  const dilation = [p(12, p(2, 1)), p(2, 1)];
  const stride = [p(13, p(3, 1)), p(3, 1)];
  const left = p(4, 0);
  const top = p(14, left);
  const right = p(15, left);
  const bottom = p(16, top);
  const fail = (what: string): never => {
    throw new Error(`Convolution ${layer.name}: ${what}`);
  };
  if (dilation.some((d) => d !== 1) || stride.some((s) => s !== 1)) fail('stride/dilation not 1');
  if ([left, top, right, bottom].some((v) => v < 0)) fail('automatic padding unsupported');
  if (p(18, 0) !== 0) fail('non-zero pad value');
  if (p(8, 0) !== 0) fail('int8 weights unsupported');
  if (kh % 2 === 0 || kw % 2 === 0 || top !== bottom || left !== right) fail('asymmetric kernel');
  if (top !== (kh - 1) / 2 || left !== (kw - 1) / 2) fail('padding other than "same"');
  const count = p(6, 0);
  if (count !== out * x.channels * kh * kw) {
    fail(`weight_data_size ${count} != ${out} x ${x.channels} x ${kh} x ${kw}`);
  }
  const w = bin.tagged(count, `${layer.name} weight`);
  const wName = g.constF32(`${layer.name}_weight`, w, [out, x.channels, kh, kw]);
  const inputs = [x.name, wName];
  if (p(5, 0)) inputs.push(g.constF32(`${layer.name}_bias`, bin.raw(out, `${layer.name} bias`)));
  const act = p(9, 0);
  const actParams = arrayParam(layer, 10) ?? [];
  if (!(act in ACTIVATIONS)) fail(`unsupported activation_type ${act}`);
  let name = g.node(
    'Conv',
    inputs,
    { kernel_shape: [kh, kw], pads: [top, left, bottom, right], strides: [1, 1] },
    { name: layer.name },
  );
  if (act === 1) {
    if (actParams.length && actParams[0] !== 0) {
      name = g.node(
        'LeakyRelu',
        [name],
        { alpha: float(actParams[0]) },
        { name: `${layer.name}_act` },
      );
    } else name = g.node('Relu', [name], {}, { name: `${layer.name}_act` });
  } else if (act === 2) {
    const alpha = actParams[0] ?? 0;
    name = g.node('LeakyRelu', [name], { alpha: float(alpha) }, { name: `${layer.name}_act` });
  } else if (act === 3) {
    if (actParams.length !== 2) fail('clip activation needs min and max');
    const lo = g.constF32(`${layer.name}_min`, [actParams[0]], []);
    const hi = g.constF32(`${layer.name}_max`, [actParams[1]], []);
    name = g.node('Clip', [name, lo, hi], {}, { name: `${layer.name}_act` });
  }
  return { name, channels: out, reach: convolve(x.reach, (kh - 1) / 2) };
}
