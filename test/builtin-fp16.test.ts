/**
 * The fp16 variants of the built-in models: which file a restore runs (fp16 only on WebGPU with
 * shader-f16, and never when fp32 is asked for), the keep-io-types conversion (tools/onnx/
 * to-fp16.ts) run on onnxruntime-node against the fp32 model on a shared photo, and the files
 * the build wrote for the models that ship one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat, roundToHalf } from '../engine/latent/float16.ts';
import { chooseBuiltinFile } from '../engine/models/builtin-precision.ts';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import { GraphBuilder } from '../tools/onnx/graph-builder.ts';
import { decode, graphOf, onnx } from '../tools/onnx/onnx-graph.ts';
import { toFp16 } from '../tools/onnx/to-fp16.ts';
import { FP16_FILE, FP16_VARIANT_IDS } from '../tools/models/fp16-variants.ts';
import { compareBytes, photoCrop, toBytes } from '../bench/fp16-reference.ts';
import { modelFile, modelsDir, readModelIndex } from './helpers/builtin-models.ts';
import { hasShared, missingShared } from './helpers/shared.ts';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

const withVariant = {
  file: 'model.onnx',
  bytes: 100,
  sha256: 'a'.repeat(64),
  variants: { fp16: { file: 'model-fp16.onnx', bytes: 50, sha256: 'b'.repeat(64) } },
};

describe('chooseBuiltinFile', () => {
  it('runs fp16 only on WebGPU with shader-f16 and the automatic setting', () => {
    expect(chooseBuiltinFile(withVariant, 'webgpu', { shaderF16: true })).toEqual({
      precision: 'fp16',
      file: 'model-fp16.onnx',
      bytes: 50,
      sha256: 'b'.repeat(64),
    });
    const fp32 = { precision: 'fp32', file: 'model.onnx', bytes: 100, sha256: 'a'.repeat(64) };
    // A software adapter (SwiftShader) has no shader-f16.
    expect(chooseBuiltinFile(withVariant, 'webgpu', { shaderF16: false })).toEqual(fp32);
    expect(chooseBuiltinFile(withVariant, 'wasm', { shaderF16: true })).toEqual(fp32);
    expect(chooseBuiltinFile(withVariant, 'webgpu', { shaderF16: true }, 'fp32')).toEqual(fp32);
    const { variants: _, ...without } = withVariant;
    expect(chooseBuiltinFile(without, 'webgpu', { shaderF16: true })).toEqual(fp32);
  });
});

describe('roundToHalf', () => {
  it('rounds like floatToHalf on float32 values, subnormals and overflow included', () => {
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    let checked = 0;
    for (let i = 0; i < 200_000; i++) {
      bits[0] = (Math.random() * 2 ** 32) >>> 0;
      const x = f32[0];
      // Exact ties (the 13 dropped mantissa bits are 0x1000) may round either way.
      if (Number.isNaN(x) || ((bits[0] & 0x1fff) === 0x1000 && Math.abs(x) >= 2 ** -14)) continue;
      const expected = halfToFloat(floatToHalf(x));
      if (roundToHalf(x) !== expected) throw new Error(`${x}: ${roundToHalf(x)} != ${expected}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(190_000);
    expect([65504, 65519, 65520, 2 ** -24, 2 ** -26, 1 + 2 ** -11].map(roundToHalf)).toEqual([
      65504,
      65504,
      Infinity,
      2 ** -24,
      0,
      1,
    ]);
  });
});

describe('toFp16', () => {
  it('refuses an operator it does not know, by name', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [1, 4]);
    g.output(g.node('Softmax', [x], {}, { name: 'soft' }), 'y', 'float32', [1, 4]);
    expect(() => toFp16(g.toBytes())).toThrow(/operator Softmax \(soft\) is not supported/);
  });

  const manifest = readModelIndex().models.find((m) => m.id === 'realesr-general-x4v3');
  const photo = 'chelsea.png';
  it.skipIf(!hasShared('images', photo))(
    'keeps float32 I/O, halves the weights and stays within 45 dB of fp32 on a photo',
    async () => {
      if (!hasShared('images', photo)) return console.log(missingShared('images', photo));
      if (!manifest) throw new Error('realesr-general-x4v3 not built: run `npm run models`');
      const fp32 = new Uint8Array(fs.readFileSync(modelFile(manifest)));
      const { bytes, report } = toFp16(fp32);
      const g = graphOf(decode(bytes));
      expect(g.input?.map((i) => i.type?.tensorType?.elemType)).toEqual([FLOAT]);
      expect(g.output?.map((o) => o.type?.tensorType?.elemType)).toEqual([FLOAT]);
      // Every weight is half but Resize's scales, which ONNX fixes to float32.
      const floats = g.initializer.filter((t) => t.dataType === FLOAT).map((t) => t.name);
      expect(floats).toEqual(g.node.filter((n) => n.opType === 'Resize').map((n) => n.input?.[2]));
      expect(g.initializer.filter((t) => t.dataType === FLOAT16)).toHaveLength(report.initializers);
      expect(bytes.length).toBeLessThan(fp32.length * 0.55);

      const crop = await photoCrop(photo, 48);
      const input = { input: new ort.Tensor('float32', crop.data, [1, 3, 48, 48]) };
      const outputs = await Promise.all(
        [fp32, bytes].map(async (model) => {
          const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
          const out = await session.run(input);
          await session.release();
          return toBytes(out.output.data as Float32Array);
        }),
      );
      expect(compareBytes(outputs[1], outputs[0]).psnr).toBeGreaterThanOrEqual(45);
    },
  );
});

describe('the build', () => {
  it('writes model-fp16.onnx with its size and sha256 for exactly the listed models', () => {
    for (const m of readModelIndex().models as BuiltinModelManifest[]) {
      const fp16 = m.variants?.fp16;
      expect(Boolean(fp16), `${m.id}: fp16 variant (run \`npm run models\`)`).toBe(
        FP16_VARIANT_IDS.has(m.id),
      );
      if (!fp16) continue;
      expect(fp16.file).toBe(FP16_FILE);
      const bytes = fs.readFileSync(path.join(modelsDir, m.id, fp16.file));
      expect(bytes.length).toBe(fp16.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(fp16.sha256);
    }
  });
});
