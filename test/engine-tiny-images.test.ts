/**
 * Tiny images through the engine with real built-in models: a flat 1 x 1 or 2 x 2 image must come
 * out flat in its own colour, within what the models do to a large flat area (without the edge
 * padding of engine/min-size.ts the models' zero padding turned (200, 40, 90) into about (1, 2, 2)),
 * as one block of the right size.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../engine/image.ts';
import type { EngineSession } from '../engine/session.ts';
import { upscaleImage, upscaleOptionsFor, type TileUpdate } from '../engine/upscale.ts';
import { MIN_MODEL_INPUT, cropImage, padEdges } from '../engine/min-size.ts';
import { loadModelIndex, modelFile } from '../tools/cli/builtin-models.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';

const runtime = createOrtNodeRuntime({ intraOpNumThreads: 2 });
const MODELS = ['realesr-general-x4v3', 'realesrgan-x4plus', 'esrgan-slim-x2', 'esrgan-medium-x4'];
const COLOUR = [200, 40, 90] as const;

function flat(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...COLOUR, 255], 4 * i);
  return { width, height, data };
}

/** Largest distance of any output channel from `colour` (alpha must stay 255). */
function maxOff(image: RgbaImage, colour: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(image.data[i + c] - colour[c]));
    expect(image.data[i + 3]).toBe(255);
  }
  return max;
}

describe('edge padding helpers', () => {
  it('centres the image, replicates its edges and crops it back', () => {
    const image: RgbaImage = {
      width: 2,
      height: 1,
      data: new Uint8ClampedArray([1, 2, 3, 255, 9, 8, 7, 255]),
    };
    const padded = padEdges(image, 5);
    expect([padded.image.width, padded.image.height, padded.left, padded.top]).toEqual([
      5, 5, 1, 2,
    ]);
    const px = (x: number, y: number) => [
      ...padded.image.data.subarray((y * 5 + x) * 4, (y * 5 + x) * 4 + 4),
    ];
    expect(px(0, 0)).toEqual([1, 2, 3, 255]);
    expect(px(4, 4)).toEqual([9, 8, 7, 255]);
    expect(cropImage(padded.image, 1, 2, 2, 1)).toEqual(image);
  });
});

describe('tiny images through the built-in models', async () => {
  const index = await loadModelIndex();
  const sessions: EngineSession[] = [];
  afterAll(async () => {
    for (const s of sessions) await s.release?.();
  });
  for (const id of MODELS) {
    const manifest = index.models.find((m) => m.id === id);
    it.skipIf(!manifest)(
      `${id}: flat 1x1 and 2x2 stay flat in their colour`,
      async () => {
        const session = await runtime.createSession(modelFile(manifest!));
        sessions.push(session);
        for (const size of [1, 2]) {
          const updates: TileUpdate[] = [];
          const out = await upscaleImage(session, runtime, flat(size, size), {
            ...upscaleOptionsFor(manifest!),
            onTile: (u) => updates.push(u),
          });
          const s = manifest!.scale;
          expect([out.width, out.height]).toEqual([size * s, size * s]);
          expect(updates.map((u) => u.rect)).toEqual([
            { x: 0, y: 0, width: size * s, height: size * s },
          ]);
          const off = maxOff(out, COLOUR);
          console.log(`${id}: flat ${size}x${size} -> max channel error ${off}`);
          // No model maps a flat colour exactly: on a 48 x 48 flat area they are 0 to 4 levels off.
          expect(off).toBeLessThanOrEqual(5);
        }
      },
      120_000,
    );
  }

  it('pads only below MIN_MODEL_INPUT', () => {
    expect(MIN_MODEL_INPUT).toBeGreaterThanOrEqual(8);
  });
});
