/**
 * The hand-written WASM kernels (engine/kernels, Winograd F(6x6,3x3) / F(4x4,5x5), fp32)
 * against the original UpscalerJS TF.js models with the same tolerance as test/esrgan-parity.test.ts,
 * on the built models (exactly rewritten by the converter), one thread and two threads (a
 * worker_threads helper on the shared memory), both committed builds (SIMD128 and relaxed SIMD).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createKernelSession } from '../engine/kernels/kernel-session.ts';
import { winogradG } from '../engine/kernels/program.ts';
import { kernelFile, type Flavour } from '../tools/kernels/build-kernels.ts';
import { spawnNodeHelper } from '../tools/kernels/node-kernel-helper.ts';
import { modelFile, readModelIndex, sourceModelDir } from './helpers/builtin-models.ts';
import {
  clipImage,
  relativeMaxDiff,
  smoothNoiseImage,
  type PlanarImage,
} from './helpers/test-image.ts';
import { loadTfjsModel, runTfjsModel } from './helpers/tfjs-reference.ts';

const PARITY_TOLERANCE = 5e-6;

describe('hand-written WASM kernels', () => {
  const wasm = (flavour: Flavour) => fs.readFileSync(kernelFile(flavour));

  it('uses the F(6x6, 3x3) transform on the points 0, ±1, ±2, ±1/2 and infinity', () => {
    const G = winogradG(3);
    // The published F(6x6, 3x3) G (Lavin & Gray; NNPACK), with the p = 0 row negated: kernels.c
    // negates the matching row of B^T (f_0 = 1 / prod(0 - q) = -1 for these points).
    const expected = [
      [-1, 0, 0],
      [-2 / 9, -2 / 9, -2 / 9],
      [-2 / 9, 2 / 9, -2 / 9],
      [1 / 90, 1 / 45, 2 / 45],
      [1 / 90, -1 / 45, 2 / 45],
      [32 / 45, 16 / 45, 8 / 45],
      [32 / 45, -16 / 45, 8 / 45],
      [0, 0, 1],
    ];
    expect(G).toHaveLength(expected.length);
    G.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 12)));
  });

  it('a session re-laid out for other tile sizes gives exactly what fresh sessions give', async () => {
    const manifest = readModelIndex().models.find((m) => m.id === 'esrgan-medium-x4');
    if (!manifest) throw new Error('esrgan-medium-x4 is not built');
    const bytes = new Uint8Array(fs.readFileSync(modelFile(manifest)));
    const sizes: [number, number][] = [
      [31, 22],
      [17, 29],
      [31, 22],
    ];
    const inputs = sizes.map(([w, h], i) =>
      smoothNoiseImage(w, h, { rangeMax: 255, seed: 11 + i }),
    );
    const run = async (
      session: Awaited<ReturnType<typeof createKernelSession>>,
      i: number,
    ): Promise<Float32Array> => {
      const [w, h] = sizes[i];
      const out = await session.run({
        input: { type: 'float32', data: inputs[i].data, dims: [1, 3, h, w] },
      });
      return out[session.outputNames[0]].data as Float32Array;
    };
    const reused = await createKernelSession(bytes, wasm('relaxed'));
    const fromReused: Float32Array[] = [];
    for (let i = 0; i < sizes.length; i++) fromReused.push(await run(reused, i));
    await reused.release?.();
    for (let i = 0; i < sizes.length; i++) {
      const fresh = await createKernelSession(bytes, wasm('relaxed'));
      expect(fromReused[i]).toEqual(await run(fresh, i));
      await fresh.release?.();
    }
  });

  const cases: [id: string, width: number, height: number][] = [
    ['esrgan-medium-x4', 23, 18],
    ['esrgan-slim-x3', 17, 13],
    ['esrgan-thick-x4', 13, 11],
  ];
  for (const [id, width, height] of cases) {
    it(`${id} ${width}x${height} matches TF.js (SIMD128 and relaxed SIMD, 1 and 2 threads)`, async () => {
      const manifest = readModelIndex().models.find((m) => m.id === id);
      if (!manifest) throw new Error(`${id} is not built`);
      // Built models are already exactly rewritten (the kernels need the Resize folded away).
      const bytes = new Uint8Array(fs.readFileSync(modelFile(manifest)));
      const image = smoothNoiseImage(width, height, { rangeMax: manifest.inputRange[1], seed: 7 });
      const tfModel = await loadTfjsModel(sourceModelDir(manifest));
      const reference = clipImage(runTfjsModel(tfModel, image), ...manifest.inputRange);
      tfModel.dispose();
      const outputs: Float32Array[] = [];
      for (const flavour of ['simd', 'relaxed'] as Flavour[]) {
        for (const threads of [1, 2]) {
          const session = await createKernelSession(bytes, wasm(flavour), {
            threads,
            spawnHelper: spawnNodeHelper,
          });
          try {
            const out = await session.run({
              input: { type: 'float32', data: image.data, dims: [1, 3, height, width] },
            });
            const result = out[session.outputNames[0]];
            expect(result.dims).toEqual([1, 3, height * manifest.scale, width * manifest.scale]);
            outputs.push(result.data as Float32Array);
          } finally {
            await session.release?.();
          }
        }
      }
      const [simd1, simd2, relaxed1, relaxed2] = outputs;
      const planar = (data: Float32Array): PlanarImage => ({
        channels: 3,
        height: height * manifest.scale,
        width: width * manifest.scale,
        data,
      });
      const rel = relativeMaxDiff(planar(simd1), reference);
      const relRelaxed = relativeMaxDiff(planar(relaxed1), reference);
      console.log(
        `kernels ${id}: max|diff|/max|ref| = ${rel.toExponential(2)} (SIMD128), ${relRelaxed.toExponential(2)} (relaxed SIMD)`,
      );
      expect(rel).toBeLessThan(PARITY_TOLERANCE);
      expect(relRelaxed).toBeLessThan(PARITY_TOLERANCE);
      // Threads split rows, each computed the same way: the results are identical.
      expect(simd2).toEqual(simd1);
      expect(relaxed2).toEqual(relaxed1);
    });
  }
});
