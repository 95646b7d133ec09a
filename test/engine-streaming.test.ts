/**
 * Streaming, progress, cancellation, alpha and gray handling of upscaleImage and upscaleToTiles, on a real (toy) ONNX
 * model run by onnxruntime-node, plus alpha on the real esrgan-slim model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelIndex, modelFile } from '../tools/cli/builtin-models.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { bleedTransparentColors } from '../engine/alpha.ts';
import { hasTransparency, type RgbaImage } from '../engine/image.ts';
import type { EngineSession } from '../engine/session.ts';
import {
  planFor,
  upscaleImage,
  upscaleOptionsFor,
  upscaleToTiles,
  type TileUpdate,
} from '../engine/upscale.ts';
import { syntheticPhoto, withEllipseAlpha } from './helpers/rgba-images.ts';
import { buildToySrModel } from './helpers/toy-sr-model.ts';

const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
const toy = buildToySrModel({ scale: 2, depth: 3, seed: 5, bias: false });
let session: EngineSession;
let runs = 0;
/** The real session, counting run() calls. */
let counted: EngineSession;

beforeAll(async () => {
  session = await runtime.createSession(toy.bytes);
  counted = {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds) => {
      runs++;
      return session.run(feeds);
    },
  };
});
afterAll(() => session.release?.());

const opts = { ...upscaleOptionsFor(toy), tileSize: 24 };

describe('streaming', () => {
  it('emits blocks in order that cover the output exactly once and match the untiled image', async () => {
    const image = syntheticPhoto(70, 45, 2);
    const updates: TileUpdate[] = [];
    const progress: [number, number][] = [];
    // upscaleToTiles keeps no image: it returns the size, and each block owns its buffer (so the
    // worker transfers it to the page without a copy).
    const size = await upscaleToTiles(session, runtime, image, {
      ...opts,
      onTile: (u) => updates.push(u),
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(size).toEqual({ width: 140, height: 90 });
    for (const u of updates) expect(u.data.buffer.byteLength).toBe(u.data.byteLength);
    // The reference: one tile over the whole image (the overlap is the toy model's exact margin).
    const out = await upscaleImage(session, runtime, image, { ...opts, tileSize: 256 });
    expect(planFor(70, 45, { ...opts, tileSize: 256 }).tiles).toHaveLength(1);
    const total = planFor(70, 45, opts).tiles.length;
    expect(total).toBeGreaterThan(6);
    expect(updates.map((u) => [u.done, u.total])).toEqual(
      Array.from({ length: total }, (_, i) => [i + 1, total]),
    );
    expect(progress).toEqual(updates.map((u) => [u.done, u.total]));

    const hits = new Uint8Array(out.width * out.height);
    for (const { rect, data } of updates) {
      expect(rect.width * rect.height).toBeGreaterThan(0);
      expect(data.length).toBe(rect.width * rect.height * 4);
      for (let y = 0; y < rect.height; y++) {
        for (let x = 0; x < rect.width; x++) {
          const p = (rect.y + y) * out.width + rect.x + x;
          hits[p]++;
          for (let k = 0; k < 4; k++) {
            if (data[(y * rect.width + x) * 4 + k] !== out.data[p * 4 + k]) {
              throw new Error(`block at ${rect.x},${rect.y} differs from the output at ${x},${y}`);
            }
          }
        }
      }
    }
    expect(hits.every((h) => h === 1)).toBe(true);
    // Row-major order: blocks never start above the previous block's row band.
    for (let i = 1; i < updates.length; i++) {
      const [a, b] = [updates[i - 1].rect, updates[i].rect];
      expect(b.y > a.y || (b.y === a.y && b.x > a.x)).toBe(true);
    }
  });

  it('gives a 5x3 image as one tile of 10x6', async () => {
    const image = syntheticPhoto(5, 3, 9);
    const updates: TileUpdate[] = [];
    const out = await upscaleImage(session, runtime, image, {
      ...opts,
      onTile: (u) => updates.push(u),
    });
    expect([out.width, out.height]).toEqual([10, 6]);
    expect(updates.map((u) => u.rect)).toEqual([{ x: 0, y: 0, width: 10, height: 6 }]);
  });

  it('rejects a model whose scale is not the one given', async () => {
    await expect(
      upscaleImage(session, runtime, syntheticPhoto(20, 20), { ...opts, scale: 4 }),
    ).rejects.toThrow(/model output is \[1, 3, 40, 40\], expected \[1, 3, 80, 80\]/);
  });
});

describe('cancellation', () => {
  it('throws the AbortError between tiles and runs no further tile', async () => {
    const controller = new AbortController();
    const updates: TileUpdate[] = [];
    runs = 0;
    const promise = upscaleImage(counted, runtime, syntheticPhoto(70, 45), {
      ...opts,
      signal: controller.signal,
      onTile: (u) => {
        updates.push(u);
        if (u.done === 2) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(updates).toHaveLength(2);
    expect(runs).toBe(2);
  });

  it('throws the signal reason before any work when already aborted', async () => {
    runs = 0;
    const reason = new Error('user cancelled');
    await expect(
      upscaleImage(counted, runtime, syntheticPhoto(30, 30), {
        ...opts,
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(runs).toBe(0);
  });
});

describe('alpha and gray', () => {
  it('keeps a transparent background transparent and runs the alpha through the model', async () => {
    const image = withEllipseAlpha(syntheticPhoto(60, 50, 4));
    runs = 0;
    const out = await upscaleImage(counted, runtime, image, opts);
    const tiles = planFor(60, 50, opts).tiles.length;
    expect(runs).toBe(2 * tiles);
    expect(hasTransparency(out)).toBe(true);
    // Corners are far (>= 3 px = the toy's radius) from the ellipse: alpha 0 in, exactly 0 out.
    // The centre is opaque: the alpha stays high.
    const alphaAt = (x: number, y: number) => out.data[(y * out.width + x) * 4 + 3];
    expect([alphaAt(0, 0), alphaAt(out.width - 1, out.height - 1)]).toEqual([0, 0]);
    expect(alphaAt(60, 50)).toBeGreaterThan(200);
  });

  it('skips the alpha pass for opaque images and writes alpha 255', async () => {
    runs = 0;
    const out = await upscaleImage(counted, runtime, syntheticPhoto(30, 30), opts);
    expect(runs).toBe(planFor(30, 30, opts).tiles.length);
    expect(hasTransparency(out)).toBe(false);
  });

  it('keeps a gray image exactly gray', async () => {
    const image = syntheticPhoto(40, 30, 6);
    const d = image.data;
    for (let i = 0; i < d.length; i += 4)
      d[i] = d[i + 1] = d[i + 2] = (d[i] + d[i + 1] + d[i + 2]) / 3;
    const out = await upscaleImage(session, runtime, image, opts);
    let maxChroma = 0;
    let maxLevel = 0;
    for (let i = 0; i < out.data.length; i += 4) {
      maxChroma = Math.max(
        maxChroma,
        Math.abs(out.data[i] - out.data[i + 1]),
        Math.abs(out.data[i] - out.data[i + 2]),
      );
      maxLevel = Math.max(maxLevel, out.data[i]);
    }
    expect(maxChroma).toBe(0);
    expect(maxLevel).toBeGreaterThan(100);
  });
});

describe('bleedTransparentColors', () => {
  it('grows visible colours into transparent pixels and keeps alpha', () => {
    // 4x1: red visible, then three transparent black pixels.
    const image: RgbaImage = {
      width: 4,
      height: 1,
      data: new Uint8ClampedArray([200, 10, 20, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    };
    const out = bleedTransparentColors(image);
    expect([...out.data]).toEqual([
      200, 10, 20, 255, 200, 10, 20, 0, 200, 10, 20, 0, 200, 10, 20, 0,
    ]);
    expect([...bleedTransparentColors(image, 1).data.subarray(8)]).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const empty: RgbaImage = { width: 2, height: 2, data: new Uint8ClampedArray(16).fill(7) };
    empty.data.forEach((_, i) => i % 4 === 3 && (empty.data[i] = 0));
    expect(bleedTransparentColors(empty).data).toEqual(empty.data);
  });
});

describe('alpha on esrgan-slim-x2', () => {
  it('keeps a transparent background transparent, with no dark fringe at the edges', async () => {
    const index = await loadModelIndex();
    const manifest = index.models.find((m) => m.id === 'esrgan-slim-x2');
    if (!manifest) throw new Error('esrgan-slim-x2 missing: run `npm run models`');
    const slim = await runtime.createSession(modelFile(manifest));
    try {
      // An orange ellipse on transparent black.
      const orange = [230, 140, 40];
      const flat = syntheticPhoto(64, 48);
      for (let i = 0; i < flat.data.length; i += 4) flat.data.set(orange, i);
      const image = withEllipseAlpha(flat);
      const out = await upscaleImage(slim, runtime, image, {
        ...upscaleOptionsFor(manifest),
        tileSize: 40,
      });
      const at = (x: number, y: number, k: number) => out.data[(y * out.width + x) * 4 + k];
      // Flat alpha stays exactly flat; the rim in between comes from the model.
      expect([at(0, 0, 3), at(out.width - 1, 0, 3), at(64, 48, 3)]).toEqual([0, 0, 255]);
      const rim = new Set<number>();
      for (let i = 3; i < out.data.length; i += 4) rim.add(out.data[i]);
      expect(rim.size).toBeGreaterThan(20);
      // Wherever the result is visible it stays orange: the black under the transparent pixels did
      // not bleed into the edge (without bleeding colours first, edges darken by ~66).
      let worst = 0;
      for (let i = 0; i < out.data.length; i += 4) {
        if (out.data[i + 3] < 64) continue;
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(out.data[i + k] - orange[k]));
      }
      expect(worst).toBeLessThanOrEqual(8);
    } finally {
      await slim.release?.();
    }
  });
});
