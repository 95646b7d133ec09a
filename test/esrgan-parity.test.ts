/**
 * Parity of the converted built-in models (public/models, built by `npm run models`) with the
 * original UpscalerJS TF.js models run by TensorFlow.js on its CPU backend, on the same synthetic
 * image. Our graphs end in a Clip to the input range, so the reference is clipped the same way.
 */
import { describe, expect, it } from 'vitest';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import { esrganModelSpecs, type EsrganModelSpec } from '../tools/esrgan/catalog.ts';
import { convertEsrgan } from '../tools/esrgan/convert-esrgan.ts';
import {
  modelFile,
  nodeModulesDir,
  readModelIndex,
  sourceModelDir,
} from './helpers/builtin-models.ts';
import { runImageModel } from './helpers/ort-image-model.ts';
import {
  clipImage,
  relativeMaxDiff,
  smoothNoiseImage,
  type PlanarImage,
} from './helpers/test-image.ts';
import { loadTfjsModel, runTfjsModel } from './helpers/tfjs-reference.ts';

/** max |ours - reference| / max |reference| allowed (float32 with a different summation order). */
const PARITY_TOLERANCE = 5e-6;

/** Small inputs keep TF.js (pure JS) quick; thick is ~10x the work per pixel. Odd sizes too. */
function inputSize(spec: EsrganModelSpec): [width: number, height: number] {
  const odd = spec.scale === 3 || spec.scale === 8;
  if (spec.family.size === 'thick') return odd ? [13, 11] : [16, 12];
  return odd ? [17, 13] : [24, 20];
}

function testImage(spec: EsrganModelSpec): PlanarImage {
  const [width, height] = inputSize(spec);
  return smoothNoiseImage(width, height, { rangeMax: spec.family.inputRange[1], seed: spec.scale });
}

const references = new Map<string, Promise<PlanarImage>>();

/** The original model's output on testImage(spec), clipped to the input range (computed once). */
function reference(spec: EsrganModelSpec, manifest: BuiltinModelManifest): Promise<PlanarImage> {
  let ref = references.get(spec.id);
  if (!ref) {
    ref = loadTfjsModel(sourceModelDir(manifest)).then((model) => {
      const out = runTfjsModel(model, testImage(spec));
      model.dispose();
      return clipImage(out, ...spec.family.inputRange);
    });
    references.set(spec.id, ref);
  }
  return ref;
}

function manifestFor(spec: EsrganModelSpec): BuiltinModelManifest {
  const manifest = readModelIndex().models.find((m) => m.id === spec.id);
  if (!manifest) throw new Error(`${spec.id} is not in public/models/index.json`);
  return manifest;
}

const specs = esrganModelSpecs();

describe('converted ESRGAN models match the original TF.js models', () => {
  for (const spec of specs) {
    it(spec.id, async () => {
      const manifest = manifestFor(spec);
      const image = testImage(spec);
      const ours = await runImageModel(modelFile(manifest), image);
      const ref = await reference(spec, manifest);
      expect([ours.channels, ours.height, ours.width]).toEqual([
        3,
        image.height * spec.scale,
        image.width * spec.scale,
      ]);
      const rel = relativeMaxDiff(ours, ref);
      console.log(
        `parity ${spec.id} ${image.width}x${image.height} -> ${ours.width}x${ours.height}: ` +
          `max|diff|/max|ref| = ${rel.toExponential(2)}`,
      );
      expect(rel).toBeLessThan(PARITY_TOLERANCE);
    });
  }
});

describe('the parity check catches a wrong pixel-shuffle order', () => {
  it('esrgan-thick-x2 converted with DepthToSpace CRD instead of DCR does not match', async () => {
    const spec = specs.find((s) => s.id === 'esrgan-thick-x2')!;
    const ref = await reference(spec, manifestFor(spec));
    const image = testImage(spec);
    const dcr = await convertEsrgan(nodeModulesDir, spec, { pixelShuffleMode: 'DCR' });
    const crd = await convertEsrgan(nodeModulesDir, spec, { pixelShuffleMode: 'CRD' });
    const relDcr = relativeMaxDiff(await runImageModel(dcr.bytes, image), ref);
    const relCrd = relativeMaxDiff(await runImageModel(crd.bytes, image), ref);
    console.log(`pixel shuffle: DCR ${relDcr.toExponential(2)}, CRD ${relCrd.toExponential(2)}`);
    expect(relDcr).toBeLessThan(PARITY_TOLERANCE);
    expect(relCrd).toBeGreaterThan(1e-2);
  });
});
