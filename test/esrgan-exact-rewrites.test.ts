/**
 * The built-in models are written already rewritten (tools/esrgan/exact-rewrites.ts, applied by
 * the converter): no Resize (UpSampling2D -> Conv became a low-resolution Conv -> DepthToSpace)
 * and no scalar Mul after a Conv (RRDN's 0.2 folded into the conv). The rewrites are exact: the
 * shipped model's output on onnxruntime-node equals the converter's un-rewritten graph
 * (`exactRewrites: false`) up to float rounding. Negative controls show the comparison catches a
 * wrong fold.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import { esrganModelSpecs, type EsrganModelSpec } from '../tools/esrgan/catalog.ts';
import { convertEsrgan } from '../tools/esrgan/convert-esrgan.ts';
import {
  clone,
  decode,
  encode,
  floatInitializer,
  graphOf,
  producer,
  setFloatInitializer,
  type Model,
  type NodeProto,
} from '../tools/onnx/onnx-graph.ts';
import { modelFile, nodeModulesDir, readModelIndex } from './helpers/builtin-models.ts';
import { runImageModel, runImageSession } from './helpers/ort-image-model.ts';
import { relativeMaxDiff, smoothNoiseImage, type PlanarImage } from './helpers/test-image.ts';

/**
 * max |rewritten - plain| / max |plain|. Folding the 0.2 and re-summing the upsampling conv over
 * low-resolution taps only changes float32 rounding: measured 3.3e-7 to 5.3e-7 on these inputs
 * (a few ulp of the peak), and a single scaling folded 1% wrong gives 6e-4.
 */
const REWRITE_TOLERANCE = 2e-6;

const specs = esrganModelSpecs();
const spec = (id: string): EsrganModelSpec => specs.find((s) => s.id === id)!;
const manifest = (id: string): BuiltinModelManifest => {
  const m = readModelIndex().models.find((x) => x.id === id);
  if (!m) throw new Error(`${id} is not in public/models/index.json: run \`npm run models\``);
  return m;
};

const ops = (model: Model) => graphOf(model).node.map((n) => n.opType ?? '');

/** Mul nodes that scale a Conv's output by a scalar constant (what foldConvScale removes). */
function scalarMulsAfterConv(model: Model): NodeProto[] {
  return graphOf(model).node.filter((n) => {
    if (n.opType !== 'Mul') return false;
    const [a, b] = n.input ?? [];
    return producer(model, a)?.opType === 'Conv' && floatInitializer(model, b)?.data.length === 1;
  });
}

/**
 * The un-rewritten graph with onnxruntime's graph optimisations off: its own Conv+Mul fusion would
 * otherwise fold the 0.2 too, and the comparison would check onnxruntime against itself.
 */
async function runPlain(bytes: Uint8Array, image: PlanarImage): Promise<PlanarImage> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'disabled',
  });
  try {
    return await runImageSession(session, image);
  } finally {
    await session.release();
  }
}

/** Small odd-sized inputs: thick is ~10x the work per pixel. */
function testImage(s: EsrganModelSpec): PlanarImage {
  const [w, h] = s.family.size === 'thick' ? [9, 8] : [13, 10];
  return smoothNoiseImage(w, h, { rangeMax: s.family.inputRange[1], seed: s.scale });
}

const cases = [
  { id: 'esrgan-medium-x4', upsampleFolds: 1, scaleFolds: 0 },
  { id: 'esrgan-medium-x3', upsampleFolds: 1, scaleFolds: 0 },
  { id: 'esrgan-slim-x2', upsampleFolds: 1, scaleFolds: 0 },
  { id: 'esrgan-thick-x4', upsampleFolds: 0, scaleFolds: 30 },
];

describe('built-in models are written exactly rewritten', () => {
  for (const c of cases) {
    it(`${c.id}: no Resize, no scalar Mul after a Conv, same output as the plain graph`, async () => {
      const s = spec(c.id);
      const m = manifest(c.id);
      const builtBytes = new Uint8Array(fs.readFileSync(modelFile(m)));
      const built = decode(builtBytes);
      const rewritten = await convertEsrgan(nodeModulesDir, s);
      const plain = await convertEsrgan(nodeModulesDir, s, { exactRewrites: false });
      const plainModel = decode(plain.bytes);

      // The shipped file is the converter's rewritten output.
      expect(m.sha256).toBe(rewritten.manifest.sha256);
      expect(rewritten.converted.rewrites).toEqual({
        foldConvScale: c.scaleFolds,
        foldUpsampleConv: c.upsampleFolds,
      });
      expect(plain.converted.rewrites).toBeNull();

      // What the source had, and what is gone.
      expect(ops(plainModel).filter((op) => op === 'Resize')).toHaveLength(c.upsampleFolds);
      expect(scalarMulsAfterConv(plainModel)).toHaveLength(c.scaleFolds);
      expect(ops(built)).not.toContain('Resize');
      expect(scalarMulsAfterConv(built)).toHaveLength(0);
      expect(ops(built).filter((op) => op === 'DepthToSpace')).toHaveLength(1);
      expect(ops(built).filter((op) => op === 'Mul')).toHaveLength(
        ops(plainModel).filter((op) => op === 'Mul').length - c.scaleFolds,
      );

      const image = testImage(s);
      const ref = await runPlain(plain.bytes, image);
      const ours = await runImageModel(builtBytes, image);
      const rel = relativeMaxDiff(ours, ref);
      console.log(
        `rewritten vs plain ${c.id} ${image.width}x${image.height}: max|diff|/max|plain| = ${rel.toExponential(2)}`,
      );
      expect(rel).toBeLessThan(REWRITE_TOLERANCE);
    });
  }
});

describe('the comparison catches a wrong rewrite', () => {
  it('foldUpsampleConv with the phases in CRD order (esrgan-medium-x4)', async () => {
    const s = spec('esrgan-medium-x4');
    const built = decode(new Uint8Array(fs.readFileSync(modelFile(manifest(s.id)))));
    const wrong = clone(built);
    const d2s = graphOf(wrong).node.find((n) => n.opType === 'DepthToSpace')!;
    d2s.attribute = (d2s.attribute ?? []).map((a) =>
      a.name === 'mode' ? { ...a, s: new TextEncoder().encode('CRD') } : a,
    );
    const image = testImage(s);
    const plain = await convertEsrgan(nodeModulesDir, s, { exactRewrites: false });
    const rel = relativeMaxDiff(
      await runImageModel(encode(wrong), image),
      await runPlain(plain.bytes, image),
    );
    console.log(`CRD phases: ${rel.toExponential(2)}`);
    expect(rel).toBeGreaterThan(1e-2);
  });

  it('foldConvScale with one of the 30 scalings 1% off (esrgan-thick-x4)', async () => {
    const s = spec('esrgan-thick-x4');
    const plain = await convertEsrgan(nodeModulesDir, s, { exactRewrites: false });
    const plainModel = decode(plain.bytes);
    const folded = scalarMulsAfterConv(plainModel).map(
      (mul) => producer(plainModel, mul.input![0])!.name,
    );
    const wrong = decode(new Uint8Array(fs.readFileSync(modelFile(manifest(s.id)))));
    // The middle one, as if its 0.2 had been folded as 0.202.
    const conv = graphOf(wrong).node.find((n) => n.name === folded[15])!;
    for (const name of conv.input!.slice(1)) {
      const t = floatInitializer(wrong, name)!;
      setFloatInitializer(
        wrong,
        name,
        t.dims,
        t.data.map((v) => v * 1.01),
      );
    }
    const image = testImage(s);
    const rel = relativeMaxDiff(
      await runImageModel(encode(wrong), image),
      await runPlain(plain.bytes, image),
    );
    console.log(`one scaling 1% off: ${rel.toExponential(2)}`);
    expect(rel).toBeGreaterThan(REWRITE_TOLERANCE * 10);
  });
});
