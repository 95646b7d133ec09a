/**
 * The exact graph rewrites of tools/perf/exact-rewrites.ts change no result beyond float rounding:
 * checked on the real built-in models (medium has the Resize + Conv tail, thick the 0.2 scalings)
 * with onnxruntime-node, against the unmodified graph on the same input.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { foldConvScale, foldUpsampleConv } from '../tools/perf/exact-rewrites.ts';
import { clone, decode, encode, graphOf } from '../tools/perf/onnx-graph.ts';
import { modelFile, readModelIndex } from './helpers/builtin-models.ts';

async function run(
  bytes: Uint8Array,
  data: Float32Array,
  h: number,
  w: number,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', data, [1, 3, h, w]) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

function input(h: number, w: number, max: number): Float32Array {
  return Float32Array.from(
    { length: 3 * h * w },
    (_, i) => (0.5 + 0.5 * Math.sin(i * 0.731)) * max,
  );
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    peak = Math.max(peak, Math.abs(a[i]));
  }
  return diff / peak;
}

const manifest = (id: string) => {
  const m = readModelIndex().models.find((x) => x.id === id);
  if (!m) throw new Error(`${id} not built`);
  return m;
};

describe('exact rewrites', () => {
  for (const id of ['esrgan-medium-x4', 'esrgan-medium-x3', 'esrgan-slim-x2']) {
    it(`foldUpsampleConv keeps ${id}'s output (Resize disappears)`, async () => {
      const m = manifest(id);
      const original = new Uint8Array(fs.readFileSync(modelFile(m)));
      const model = clone(decode(original));
      expect(foldUpsampleConv(model)).toBe(1);
      const ops = graphOf(model).node.map((n) => n.opType);
      expect(ops).not.toContain('Resize');
      expect(ops).toContain('DepthToSpace');
      const [h, w] = [13, 10];
      const rel = maxRelDiff(
        await run(original, input(h, w, 255), h, w),
        await run(encode(model), input(h, w, 255), h, w),
      );
      expect(rel).toBeLessThan(5e-6);
    });
  }

  it("foldConvScale folds esrgan-thick-x4's 0.2 scalings that follow a conv", async () => {
    const m = manifest('esrgan-thick-x4');
    const original = new Uint8Array(fs.readFileSync(modelFile(m)));
    const model = clone(decode(original));
    const mulsBefore = graphOf(model).node.filter((n) => n.opType === 'Mul').length;
    const folded = foldConvScale(model);
    expect(folded).toBe(30);
    expect(graphOf(model).node.filter((n) => n.opType === 'Mul').length).toBe(mulsBefore - folded);
    const [h, w] = [9, 8];
    const rel = maxRelDiff(
      await run(original, input(h, w, 1), h, w),
      await run(encode(model), input(h, w, 1), h, w),
    );
    expect(rel).toBeLessThan(5e-6);
  });
});
