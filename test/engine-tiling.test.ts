/**
 * Exactness of tiling: with overlap >= the model's tileMargin, tiled output equals untiled output
 * (within 1 of 0..255 after rounding) on the real built-in convolutional models; with too little
 * overlap it does not (which proves the comparison can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelIndex, modelFile } from '../tools/cli/builtin-models.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import type { RgbaImage } from '../engine/image.ts';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import type { EngineSession } from '../engine/session.ts';
import { planFor, upscaleImage, upscaleOptionsFor, type TileUpdate } from '../engine/upscale.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';
import { buildToySrModel } from './helpers/toy-sr-model.ts';
import { crop, maxAbsDiff, syntheticPhoto, withEllipseAlpha } from './helpers/rgba-images.ts';

const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });

interface Loaded {
  manifest: Pick<BuiltinModelManifest, 'scale' | 'inputRange' | 'tileMargin'>;
  session: EngineSession;
}

async function run(model: Loaded, image: RgbaImage, tileSize: number, overlap?: number) {
  const updates: TileUpdate[] = [];
  const out = await upscaleImage(model.session, runtime, image, {
    ...upscaleOptionsFor(model.manifest),
    ...(overlap === undefined ? {} : { overlap }),
    tileSize,
    onTile: (u) => updates.push(u),
  });
  return { out, updates };
}

/** Untiled reference, then each tile size must match it within 1. */
async function expectExactTiling(model: Loaded, image: RgbaImage, tileSizes: number[]) {
  const whole = Math.max(image.width, image.height);
  const ref = await run(model, image, whole);
  expect(ref.updates).toHaveLength(1);
  for (const tileSize of tileSizes) {
    const { out, updates } = await run(model, image, tileSize);
    const tiles = planFor(image.width, image.height, {
      tileSize,
      overlap: model.manifest.tileMargin,
    });
    expect(updates).toHaveLength(tiles.tiles.length);
    expect(maxAbsDiff(out, ref.out), `tile ${tileSize}`).toBeLessThanOrEqual(1);
  }
  return ref.out;
}

/** With overlap 2 (far below tileMargin), tiled output differs by more than 1 somewhere. */
async function expectSeamsWithoutOverlap(
  model: Loaded,
  image: RgbaImage,
  reference: RgbaImage,
  tileSize: number,
) {
  const { out, updates } = await run(model, image, tileSize, 2);
  expect(updates.length).toBeGreaterThan(1);
  expect(maxAbsDiff(out, reference)).toBeGreaterThan(1);
}

describe('tiling exactness on a toy conv model (receptive radius 3)', () => {
  const toy = buildToySrModel({ scale: 3, depth: 3, seed: 7 });
  let model: Loaded;
  beforeAll(async () => {
    model = { manifest: toy, session: await runtime.createSession(toy.bytes) };
  });
  afterAll(() => model.session.release?.());

  it('tiled equals untiled for odd and even tile sizes and a tile larger than the image', async () => {
    const image = syntheticPhoto(83, 61, 3);
    const ref = await expectExactTiling(model, image, [22, 23, 31, 40, 57, 100]);
    const { out } = await run(model, image, 22, 1);
    expect(maxAbsDiff(out, ref)).toBeGreaterThan(1);
  });

  it('also with transparency (alpha through the model, colours bled under it)', async () => {
    const image = withEllipseAlpha(syntheticPhoto(61, 47, 5));
    const ref = await expectExactTiling(model, image, [22, 29, 47]);
    const { out } = await run(model, image, 22, 1);
    expect(maxAbsDiff(out, ref)).toBeGreaterThan(1);
  });
});

describe('tiling exactness on the built-in ESRGAN models', () => {
  const models = new Map<string, Loaded>();
  beforeAll(async () => {
    const index = await loadModelIndex();
    for (const id of ['esrgan-slim-x2', 'esrgan-slim-x4', 'esrgan-medium-x4']) {
      const manifest = index.models.find((m) => m.id === id);
      if (!manifest) throw new Error(`built-in model ${id} missing: run \`npm run models\``);
      models.set(id, { manifest, session: await runtime.createSession(modelFile(manifest)) });
    }
  });
  afterAll(async () => {
    for (const m of models.values()) await m.session.release?.();
  });
  const get = (id: string): Loaded => models.get(id)!;

  it.each(['esrgan-slim-x2', 'esrgan-slim-x4'])('%s: generated 97x75 image', async (id) => {
    const image = syntheticPhoto(97, 75, 11);
    const ref = await expectExactTiling(get(id), image, [37, 48, 63, 200]);
    await expectSeamsWithoutOverlap(get(id), image, ref, 37);
  });

  describe.skipIf(!hasShared('images', 'chelsea.png'))('on chelsea.png (451x300)', () => {
    let chelsea: RgbaImage;
    beforeAll(async () => {
      chelsea = await decodeImage(sharedPath('images', 'chelsea.png'));
    });

    it('esrgan-slim-x2', async () => {
      const ref = await expectExactTiling(get('esrgan-slim-x2'), chelsea, [64, 97, 128, 255, 512]);
      await expectSeamsWithoutOverlap(get('esrgan-slim-x2'), chelsea, ref, 128);
    });

    it('esrgan-slim-x4', async () => {
      const ref = await expectExactTiling(get('esrgan-slim-x4'), chelsea, [97, 255, 512]);
      await expectSeamsWithoutOverlap(get('esrgan-slim-x4'), chelsea, ref, 128);
    });

    it('esrgan-medium-x4 on a 140x100 crop', async () => {
      const image = crop(chelsea, 150, 90, 140, 100);
      const ref = await expectExactTiling(get('esrgan-medium-x4'), image, [53, 64, 81]);
      await expectSeamsWithoutOverlap(get('esrgan-medium-x4'), image, ref, 53);
    });
  });
  if (!hasShared('images', 'chelsea.png'))
    it.skip(missingShared('images', 'chelsea.png'), () => {});
});
