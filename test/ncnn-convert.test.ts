/**
 * tools/ncnn/ on small hand-made ncnn models: a valid one runs on onnxruntime-node with the
 * expected values (fp16 and fp32 weights, fused LeakyReLU, Eltwise coefficients), and each kind
 * of input the converter does not know fails naming it.
 */
import { describe, expect, it } from 'vitest';
import { convertNcnn } from '../tools/ncnn/convert-ncnn.ts';
import { parseNcnnParam } from '../tools/ncnn/ncnn-param.ts';
import { runImageModel } from './helpers/ort-image-model.ts';

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
const u32 = (v: number) => new Uint8Array(Uint32Array.from([v]).buffer);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** 1x1 conv weights: 3 -> 3 identity times k, in fp16 (1.0 = 0x3c00, 0.5 = 0x3800). */
const fp16Identity = (half: number) => {
  const h = new Uint16Array(9 + 1); // 9 values, padded to 4 bytes
  for (let i = 0; i < 3; i++) h[i * 4] = half;
  return new Uint8Array(h.buffer);
};

const param = (lines: string[]) =>
  `7767517\n${lines.length} ${lines.length + 2}\n${lines.join('\n')}\n`;
const VALID = param([
  'Input in 0 1 data',
  'Split sp 1 2 data a b',
  'Convolution c1 1 1 a c 0=3 1=1 5=1 6=9 9=2 -23310=1,2.000000e-01',
  'Eltwise e 2 1 c b out 0=1 -23301=2,5.000000e-01,1.000000e+00',
]);
const VALID_BIN = cat(u32(0x01306b47), fp16Identity(0x3c00), f32([0, -1, 0]));

describe('ncnn converter', () => {
  it('parses array params and converts a small model that onnxruntime-node runs', async () => {
    const p = parseNcnnParam(VALID);
    expect(p.layers[2].params.get(10)).toEqual([0.2]);
    const converted = convertNcnn(VALID, VALID_BIN, { clipOutput: null });
    expect(converted.scale).toBe(1);
    expect(converted.tileMargin).toBe(0);
    const x = [0.5, 0.5, -1, 0.2, 0.3, 0.4]; // 3 channels x (1 x 2)
    const out = await runImageModel(converted.bytes, {
      channels: 3,
      height: 1,
      width: 2,
      data: Float32Array.from(x),
    });
    // out = 0.5 * lrelu(x + bias) + x, bias = [0, -1, 0]
    const bias = [0, 0, -1, -1, 0, 0];
    const want = x.map((v, i) => {
      const y = v + bias[i];
      return 0.5 * (y >= 0 ? y : 0.2 * y) + v;
    });
    out.data.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
  });

  it.each([
    [VALID.replace('Eltwise e', 'Crop e'), VALID_BIN, /layer e: unsupported ncnn layer type Crop/],
    [VALID.replace('6=9', '6=9 7=1'), VALID_BIN, /Convolution c1: unsupported param 7/],
    [VALID.replace('9=2', '9=5'), VALID_BIN, /Convolution c1: unsupported activation_type 5/],
    [VALID.replace('0=1 -23301', '0=2 -23301'), VALID_BIN, /Eltwise e: op_type 2/],
    [VALID, cat(u32(0x12345678), VALID_BIN.subarray(4)), /unsupported weight tag 0x12345678/],
    [VALID, cat(VALID_BIN, f32([1])), /read 36 of 40 bytes/],
    [VALID, VALID_BIN.subarray(0, 30), /c1 bias needs 12 bytes/],
    [VALID.replace('7767517', '7767518'), VALID_BIN, /magic 7767518/],
  ])('fails clearly: %#', (text, bin, message) => {
    expect(() => convertNcnn(text, bin)).toThrow(message);
  });
});
