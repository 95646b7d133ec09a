/**
 * The generated public/models (from `npm run models`): index, manifests, ONNX interface, and the
 * Clip that keeps outputs in the input range.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import { DEFAULT_MODEL_ID, esrganModelSpecs } from '../tools/esrgan/catalog.ts';
import { convertEsrgan } from '../tools/esrgan/convert-esrgan.ts';
import {
  BUILTIN_DEFAULT_GPU_ID,
  BUILTIN_DEFAULT_ID,
  REAL_ESRGAN_SPECS,
} from '../tools/ncnn/catalog.ts';
import { modelFile, modelsDir, nodeModulesDir, readModelIndex } from './helpers/builtin-models.ts';
import { runImageModel } from './helpers/ort-image-model.ts';
import type { PlanarImage } from './helpers/test-image.ts';

const specs = esrganModelSpecs();

describe('public/models/index.json', () => {
  it('lists Real-ESRGAN then every ESRGAN model, each as in its manifest.json', () => {
    const index = readModelIndex();
    expect(index.version).toBe(1);
    expect(index.default).toBe(BUILTIN_DEFAULT_ID);
    expect(index.defaultGpu).toBe(BUILTIN_DEFAULT_GPU_ID);
    expect(index.models.map((m) => m.id)).toEqual([
      ...REAL_ESRGAN_SPECS.map((s) => s.id),
      ...specs.map((s) => s.id),
    ]);
    expect(index.models.filter((m) => m.group === 'classic').map((m) => m.id)).toEqual(
      specs.map((s) => s.id),
    );
    expect(specs.map((s) => s.id)).toContain(DEFAULT_MODEL_ID);
    for (const m of index.models) {
      const manifest = JSON.parse(
        fs.readFileSync(path.join(modelsDir, m.id, 'manifest.json'), 'utf8'),
      );
      expect(manifest).toEqual(m);
    }
  });
});

describe('built-in model manifests', () => {
  for (const spec of specs) {
    it(`${spec.id}: manifest, file and ONNX interface agree`, () => {
      const m = readModelIndex().models.find((x) => x.id === spec.id)!;
      const pkg = JSON.parse(
        fs.readFileSync(path.join(nodeModulesDir, m.source.package, 'package.json'), 'utf8'),
      );
      expect(m).toMatchObject({
        scale: spec.scale,
        family: spec.family.family,
        architecture: spec.family.architecture,
        inputRange: spec.family.inputRange,
        licence: 'MIT',
        source: {
          package: spec.family.package,
          version: pkg.version,
          path: `models/x${spec.scale}/model.json`,
        },
        opset: 17,
      });
      expect(m.name).toMatch(new RegExp(`^ESRGAN ${spec.family.size} ×${spec.scale}$`));
      expect(m.description.length).toBeGreaterThan(10);
      expect(Number.isInteger(m.tileMargin) && m.tileMargin > 0).toBe(true);

      const bytes = fs.readFileSync(modelFile(m));
      expect(bytes.length).toBe(m.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256);

      const model = decodeModel(bytes);
      expect(model.opsetImport.map((o) => [o.domain ?? '', Number(o.version)])).toEqual([['', 17]]);
      const graph = model.graph!;
      const io = (values: typeof graph.input) =>
        (values ?? []).map((v) => [
          v.name,
          ...(v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue)),
        ]);
      expect(io(graph.input)).toEqual([['input', 1, 3, 'height', 'width']]);
      expect(io(graph.output)).toEqual([['output', 1, 3, 'out_height', 'out_width']]);
      const ops = new Set((graph.node ?? []).map((n) => n.opType));
      expect(ops.has('Clip')).toBe(true);
      // RRDN's pixel shuffle, or RDN's upsampling folded by the exact rewrites (no Resize left).
      expect(ops.has('DepthToSpace')).toBe(true);
      expect(ops.has('Resize')).toBe(false);
    });
  }
});

/** A hard, blocky black/white pattern that makes the models ring past the range. */
function harshPattern(max: number, size = 16): PlanarImage {
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++)
        data[(c * size + y) * size + x] = ((x >> 1) + (y >> 1) + c) % 2 ? max : 0;
    }
  }
  return { channels: 3, height: size, width: size, data };
}

describe('outputs are clipped to the input range', () => {
  it('every built-in model equals clamp(unclipped conversion), and the clip matters', async () => {
    const overshooting: string[] = [];
    for (const spec of specs) {
      const [lo, hi] = spec.family.inputRange;
      const image = harshPattern(hi);
      const raw = await convertEsrgan(nodeModulesDir, spec, { clipOutput: null });
      const unclipped = await runImageModel(raw.bytes, image);
      const shipped = await runImageModel(
        modelFile(readModelIndex().models.find((m) => m.id === spec.id)!),
        image,
      );
      let mismatches = 0;
      shipped.data.forEach((v, i) => {
        if (v !== Math.min(hi, Math.max(lo, unclipped.data[i]))) mismatches++;
      });
      expect(mismatches, spec.id).toBe(0);
      if (unclipped.data.some((v) => v < lo || v > hi)) overshooting.push(spec.id);
    }
    console.log(`unclipped output leaves the input range for: ${overshooting.join(', ')}`);
    expect(overshooting).toContain(DEFAULT_MODEL_ID);
    expect(overshooting).toContain('esrgan-thick-x4');
  });
});
