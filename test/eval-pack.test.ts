/** `npm run eval --pack`: a model pack (a tiny random-weight GenDR-shaped pack) run by engine/latent. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePack } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import { writeGeneratedPairs } from './helpers/eval-pairs.ts';
import { repoRoot } from './helpers/shared.ts';

describe('npm run eval --pack', () => {
  it('scores a pack next to bicubic (no built-in model when only --pack is given)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-eval-pack-'));
    const pack = path.join(dir, 'pack');
    const manifest = await writePack(pack, tinyGendrPack());
    const { lrDir, hrDir } = await writeGeneratedPairs(dir, [
      [128, 96],
      [96, 96],
    ]);
    const out = path.join(dir, 'out');
    execFileSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin/run-ts.mjs'),
        path.join(repoRoot, 'tools/eval/main.ts'),
        '--pairs',
        lrDir,
        hrDir,
        '--pack',
        pack,
        '--out',
        out,
        '--threads',
        '1',
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    const rows = fs
      .readFileSync(path.join(out, 'eval.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['img0.png', 'bicubic'],
      ['img0.png', manifest.id],
      ['img1.png', 'bicubic'],
      ['img1.png', manifest.id],
    ]);
    for (const r of rows) {
      expect(Number.isFinite(Number(r[2]))).toBe(true);
      expect(Number(r[5])).toBeGreaterThan(0);
    }
    // Random weights restore nothing: the pack scores below bicubic.
    expect(Number(rows[1][2])).toBeLessThan(Number(rows[0][2]));
    expect(fs.readFileSync(path.join(out, 'table.md'), 'utf8')).toContain(`| ${manifest.id} |`);
  }, 120_000);
});
