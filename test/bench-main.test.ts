/**
 * Smoke test of `npm run bench` (bench/driver/main.ts --quick): builds the bench page, runs every
 * suite on tiny inputs in the real Chromium and onnxruntime-node, and writes its reports to a
 * temporary folder (never over the committed BENCHMARKS.md). No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { goals, type BenchResults } from '../bench/driver/report.ts';
import { repoRoot } from './helpers/shared.ts';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(!fs.existsSync(chromium))('npm run bench (smoke)', () => {
  it(
    'measures every suite on tiny inputs and writes results.json and BENCHMARKS.md',
    { timeout: 330_000 },
    () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-bench-smoke-'));
      const stdout = execFileSync(
        process.execPath,
        [
          path.join(repoRoot, 'bin/run-ts.mjs'),
          path.join(repoRoot, 'bench/driver/main.ts'),
          '--quick',
          '--out',
          out,
        ],
        { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
      );
      expect(stdout).toContain('wrote');
      const results = JSON.parse(
        fs.readFileSync(path.join(out, 'bench/results.json'), 'utf8'),
      ) as BenchResults;
      expect(results.quick).toBe(true);
      expect(results.pageInfo?.crossOriginIsolated).toBe(true);
      expect(results.headToHead.map((h) => h.model)).toEqual([
        'esrgan-medium-x4',
        'esrgan-thick-x4',
      ]);
      for (const h of results.headToHead) {
        // The app's worker, side by side: the hand-written kernels (as shipped) and onnxruntime-web,
        // each as the worker's RestoreResult reported it.
        expect(h.appKernels.cpuEngine).toBe('kernels');
        expect(h.appOnnxruntime.cpuEngine).toBe('onnxruntime');
        for (const app of [h.appKernels, h.appOnnxruntime]) {
          expect(app.wall.n).toBe(1);
          expect(app.wall.median).toBeGreaterThan(0);
          expect(app.tiles).toBeGreaterThan(0);
        }
        expect(h.peerWasm?.threads).toBe(2);
        expect(h.native.wall.median).toBeGreaterThan(0);
      }
      // The goals judge the app's worker on the kernels.
      const judged = goals(results).filter((g) => g.met !== null);
      expect(
        judged.some((g) => /app worker on the kernels: within 2x of onnxruntime-node/.test(g.goal)),
      ).toBe(true);
      expect(judged.every((g) => g.goal.includes('on the kernels'))).toBe(true);
      for (const engine of ['kernels', 'onnxruntime'] as const) {
        const o = results.overhead?.[engine];
        expect(o?.cpuEngine).toBe(engine);
        expect(o?.app.cpuEngine).toBe(engine);
        expect(o?.app.firstTile.median).toBeGreaterThan(0);
        // Overhead is measured within each restore: the app's worker reports its own sum of
        // session.run, which the restore's wall covers.
        expect(o?.appInference.median).toBeGreaterThan(0);
        expect(o?.overhead).toBeGreaterThanOrEqual(1);
        expect(o?.app.wall.median).toBeGreaterThanOrEqual(o?.appInference.median ?? Infinity);
        // The bench worker's pipeline, in pairs with those restores: a ratio of two runs, so only
        // its sign is certain on tiny inputs; within the bench worker, wall covers the runs.
        expect(o?.runSpeedRatio).toBeGreaterThan(0);
        expect(o?.pipelineWall.median).toBeGreaterThanOrEqual(o?.inference.median ?? Infinity);
      }
      expect(results.memory?.points).toHaveLength(3);
      const names = results.variants.map((v) => `${v.model}/${v.name}`);
      for (const name of ['unrewritten', 'baseline', 'kernels'])
        expect(names).toContain(`esrgan-medium-x4/${name}`);
      expect(names).toContain('esrgan-thick-x4/2-workers');
      // The rewritten model.onnx and the kernels match the converter's un-rewritten graph.
      for (const v of results.variants) expect(v.maxDiff255 ?? 0).toBeLessThan(0.01);
      expect(results.variants.find((v) => v.name === 'baseline')?.reference).toBe('unrewritten');
      // Real-ESRGAN: the app's worker runs it on the kernels, beside onnxruntime-web, native and the
      // original engine (upscayl-bin, or the reason it could not run here).
      const real = results.realEsrgan?.headToHead[0];
      expect(real?.model).toBe('realesr-general-x4v3');
      expect(real?.appKernels.cpuEngine).toBe('kernels');
      expect(real?.appOnnxruntime.cpuEngine).toBe('onnxruntime');
      expect(real?.native.wall.median).toBeGreaterThan(0);
      expect(real?.upscayl.wall?.median ?? real?.upscayl.skipped).toBeTruthy();
      expect(
        judged.some((g) => /≥ 3x faster than onnxruntime-web in the same page/.test(g.goal)),
      ).toBe(true);
      expect(results.realEsrgan?.overhead?.kernels.app.cpuEngine).toBe('kernels');
      expect(names).toContain('realesr-general-x4v3/kernels-direct');
      expect(results.gendr.map((g) => g.pack)).toContain('Tiny GenDR-shaped test pack (fp32)');
      for (const g of results.gendr) expect(g.stages.map((s) => s.stage)).toContain('decode');
      const md = fs.readFileSync(path.join(out, 'BENCHMARKS.md'), 'utf8');
      expect(md).toContain('QUICK smoke run');
      expect(md).toContain('## Goals');
      expect(md).toContain('app worker, kernels');
      expect(md).toContain(results.environment.chromium);
    },
  );
});
