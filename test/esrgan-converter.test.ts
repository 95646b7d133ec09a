/**
 * Converter building blocks on small synthetic inputs: weight decoding (shards, dequantization),
 * the kernel layout change, the receptive-field arithmetic, and loud failures on the unknown.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertLayersModel, hwioToOihw } from '../tools/esrgan/convert-layers-model.ts';
import {
  convolve,
  inputReach,
  merge,
  reachRadius,
  upsample,
} from '../tools/esrgan/receptive-field.ts';
import {
  readLayersModel,
  type KerasLayer,
  type LayersModel,
} from '../tools/esrgan/tfjs-layers-model.ts';
import { decodeWeights, halfToFloat } from '../tools/esrgan/tfjs-weights.ts';
import { esrganModelSpecs } from '../tools/esrgan/catalog.ts';
import { convertEsrgan } from '../tools/esrgan/convert-esrgan.ts';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import { nodeModulesDir } from './helpers/builtin-models.ts';
import { runImageModel } from './helpers/ort-image-model.ts';
import { smoothNoiseImage } from './helpers/test-image.ts';

describe('weight decoding', () => {
  it('reads weights across shards in manifest order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-tfjs-'));
    try {
      const values = Float32Array.from({ length: 10 }, (_, i) => i + 0.5);
      const bytes = new Uint8Array(values.buffer);
      // The shard boundary (byte 13) falls inside a float.
      fs.writeFileSync(path.join(dir, 'b.bin'), bytes.subarray(0, 13));
      fs.writeFileSync(path.join(dir, 'a.bin'), bytes.subarray(13));
      const json = {
        format: 'layers-model',
        modelTopology: { model_config: { class_name: 'Functional', config: { layers: [] } } },
        weightsManifest: [
          {
            paths: ['b.bin', 'a.bin'],
            weights: [
              { name: 'x/kernel', shape: [2, 3], dtype: 'float32' },
              { name: 'x/bias', shape: [4], dtype: 'float32' },
            ],
          },
        ],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      const model = await readLayersModel(dir);
      expect([...model.weights.get('x/kernel')!.data]).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
      expect(model.weights.get('x/kernel')!.shape).toEqual([2, 3]);
      expect([...model.weights.get('x/bias')!.data]).toEqual([6.5, 7.5, 8.5, 9.5]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dequantizes uint8, uint16 and float16 weights', () => {
    const u8 = Uint8Array.from([0, 1, 255]);
    const u16 = new Uint8Array(Uint16Array.from([0, 2, 65535]).buffer);
    const f16 = new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7bff]).buffer);
    const bytes = new Uint8Array([...u8, ...u16, ...f16]);
    const weights = decodeWeights(
      [
        {
          name: 'a',
          shape: [3],
          dtype: 'float32',
          quantization: { dtype: 'uint8', scale: 0.5, min: -1 },
        },
        {
          name: 'b',
          shape: [3],
          dtype: 'float32',
          quantization: { dtype: 'uint16', scale: 0.25, min: 2 },
        },
        { name: 'c', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      ],
      bytes,
    );
    expect([...weights.get('a')!.data]).toEqual([-1, -0.5, 126.5]);
    expect([...weights.get('b')!.data]).toEqual([2, 2.5, 2 + 65535 * 0.25]);
    expect([...weights.get('c')!.data]).toEqual([1, -2, 2 ** -24, 65504]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });

  it('fails when the manifest and the shards disagree in size', () => {
    const spec = [{ name: 'a', shape: [2], dtype: 'float32' }];
    expect(() => decodeWeights(spec, new Uint8Array(4))).toThrow(/needs bytes/);
    expect(() => decodeWeights(spec, new Uint8Array(12))).toThrow(/covers 8 bytes/);
  });
});

describe('kernel layout', () => {
  it('moves HWIO to OIHW', () => {
    const [kh, kw, ci, co] = [2, 3, 4, 5];
    const src = Float32Array.from({ length: kh * kw * ci * co }, (_, i) => i);
    const dst = hwioToOihw(src, kh, kw, ci, co);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) {
            expect(dst[((o * ci + i) * kh + y) * kw + x]).toBe(
              src[((y * kw + x) * ci + i) * co + o],
            );
          }
  });
});

describe('receptive field', () => {
  it('adds convolution radii, then converts them to input pixels at an upsampling', () => {
    let r = convolve(convolve(inputReach, 1), 2);
    expect(reachRadius(r)).toBe(3);
    r = upsample(r, 4);
    r = convolve(convolve(r, 1), 1);
    // Two 3x3 convolutions on the x4 grid reach 2 fine pixels: still within one input pixel.
    expect(reachRadius(r)).toBe(4);
    r = convolve(r, 3);
    expect(reachRadius(r)).toBe(5);
    expect(reachRadius(merge([convolve(inputReach, 2), convolve(inputReach, 5)]))).toBe(5);
    expect(() => merge([inputReach, upsample(inputReach, 2)])).toThrow(/different grids/);
  });
});

/** A tiny functional model: input -> conv (3x3, 3->2) -> <layer under test>. */
function tinyModel(extra: KerasLayer, convConfig: Record<string, unknown> = {}): LayersModel {
  const layer = (
    class_name: string,
    name: string,
    config: Record<string, unknown>,
    inputs: string[],
  ): KerasLayer => ({
    class_name,
    name,
    config,
    inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
  });
  return {
    json: {} as LayersModel['json'],
    graph: {
      layers: [
        layer(
          'InputLayer',
          'in',
          { batch_input_shape: [null, null, null, 3], dtype: 'float32' },
          [],
        ),
        layer(
          'Conv2D',
          'conv',
          {
            filters: 3,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            activation: 'linear',
            ...convConfig,
          },
          ['in'],
        ),
        extra,
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [[extra.name, 0, 0]],
    },
    weights: new Map([
      ['conv/kernel', { shape: [3, 3, 3, 3], data: new Float32Array(81).fill(0.1) }],
      ['conv/bias', { shape: [3], data: new Float32Array(3) }],
    ]),
  };
}

describe('unsupported models fail loudly', () => {
  const relu: KerasLayer = {
    class_name: 'Activation',
    name: 'act',
    config: { activation: 'relu' },
    inbound_nodes: [[['conv', 0, 0, {}]]],
  };

  it('converts the supported tiny model, and it runs', async () => {
    const converted = convertLayersModel(tinyModel(relu));
    expect(converted.tileMargin).toBe(1);
    const out = await runImageModel(converted.bytes, {
      channels: 3,
      height: 3,
      width: 3,
      data: new Float32Array(27).fill(1),
    });
    // Centre pixel: 0.1 * 27 inputs; corner: 0.1 * 3 channels * 4 pixels.
    expect(out.data[4]).toBeCloseTo(2.7, 5);
    expect(out.data[0]).toBeCloseTo(1.2, 5);
  });

  it('rejects an unknown layer class', () => {
    const lambda = { ...relu, class_name: 'Lambda', name: 'lambda' };
    expect(() => convertLayersModel(tinyModel(lambda))).toThrow(/unsupported layer class Lambda/);
  });

  it('rejects an unknown activation, strides and even kernels', () => {
    expect(() =>
      convertLayersModel(tinyModel({ ...relu, config: { activation: 'gelu' } })),
    ).toThrow(/unsupported activation gelu/);
    expect(() => convertLayersModel(tinyModel(relu, { strides: [2, 2] }))).toThrow(/strides/);
    expect(() => convertLayersModel(tinyModel(relu, { kernel_size: [2, 2] }))).toThrow(
      /even kernel/,
    );
  });

  it('rejects weights that no layer uses', () => {
    const model = tinyModel(relu);
    model.weights.set('ghost/kernel', { shape: [1], data: new Float32Array(1) });
    expect(() => convertLayersModel(model)).toThrow(/not used by any layer: ghost\/kernel/);
  });
});

describe('long concatenations', () => {
  it('are split into Concats of at most maxConcatInputs inputs, with identical results', async () => {
    const spec = esrganModelSpecs().find((s) => s.id === 'esrgan-medium-x2')!;
    const concatSizes = (bytes: Uint8Array) =>
      (decodeModel(bytes).graph?.node ?? [])
        .filter((n) => n.opType === 'Concat')
        .map((n) => n.input?.length ?? 0);
    const split = await convertEsrgan(nodeModulesDir, spec);
    const whole = await convertEsrgan(nodeModulesDir, spec, { maxConcatInputs: 100 });
    expect(Math.max(...concatSizes(whole.bytes))).toBe(10);
    expect(Math.max(...concatSizes(split.bytes))).toBeLessThanOrEqual(7);
    const image = smoothNoiseImage(12, 10);
    const a = await runImageModel(split.bytes, image);
    const b = await runImageModel(whole.bytes, image);
    expect(a.data).toEqual(b.data);
  });
});
