/**
 * Smoke test of `npm run bench` (tools/bench/main.ts --quick): builds the bench page, runs every
 * suite on tiny inputs in the real Chromium and onnxruntime-node, and writes its reports to a
 * temporary folder (never over the committed BENCHMARKS.md). No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../tools/bench/report.ts';
import { repoRoot } from './helpers/shared.ts';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(!fs.existsSync(chromium))('npm run bench (smoke)', () => {
  it('measures every suite on tiny inputs and writes results.json and BENCHMARKS.md', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-bench-smoke-'));
    const stdout = execFileSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin/run-ts.mjs'),
        path.join(repoRoot, 'tools/bench/main.ts'),
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
    expect(results.headToHead.map((h) => h.model)).toEqual(['esrgan-medium-x4', 'esrgan-thick-x4']);
    for (const h of results.headToHead) {
      expect(h.ours.wall.n).toBe(1);
      expect(h.ours.wall.median).toBeGreaterThan(0);
      expect(h.peerWasm?.threads).toBe(2);
      expect(h.native.wall.median).toBeGreaterThan(0);
    }
    expect(results.overhead?.overhead).toBeGreaterThanOrEqual(1);
    expect(results.overhead?.firstTile.median).toBeGreaterThan(0);
    expect(results.memory?.points).toHaveLength(3);
    const names = results.variants.map((v) => `${v.model}/${v.name}`);
    expect(names).toContain('esrgan-medium-x4/rewritten');
    expect(names).toContain('esrgan-thick-x4/2-workers');
    for (const v of results.variants) expect(v.maxDiff255 ?? 0).toBeLessThan(0.01);
    // The hand-written kernels run when clang-16 is installed (they are skipped otherwise).
    if (names.includes('esrgan-medium-x4/kernels')) {
      expect(results.headToHead[0].oursKernels?.wall.median).toBeGreaterThan(0);
    }
    expect(results.gendr.map((g) => g.pack)).toContain('Tiny GenDR-shaped test pack (fp32)');
    for (const g of results.gendr) expect(g.stages.map((s) => s.stage)).toContain('decode');
    const md = fs.readFileSync(path.join(out, 'BENCHMARKS.md'), 'utf8');
    expect(md).toContain('QUICK smoke run');
    expect(md).toContain('## Goals');
    expect(md).toContain(results.environment.chromium);
  });
});
