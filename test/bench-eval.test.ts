/**
 * Smoke test of `npm run eval --pairs` (tools/eval/main.ts) on three pairs (DRealSR's from the
 * shared data, else pairs made here), and checks of its metrics.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createImage } from '../engine/image.ts';
import { bicubicUpscale, cropToMultiple, downscale } from '../tools/eval/degrade.ts';
import { luma, psnr, ssim } from '../tools/eval/metrics.ts';
import { writeGeneratedPairs } from './helpers/eval-pairs.ts';
import { hasShared, missingShared, repoRoot, sharedPath } from './helpers/shared.ts';

function noise(width: number, height: number, seed: number) {
  const image = createImage(width, height);
  let s = seed;
  for (let i = 0; i < image.data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    image.data[i] = i % 4 === 3 ? 255 : s >>> 24;
  }
  return image;
}

describe('eval metrics', () => {
  it('PSNR and SSIM of an image with itself are Infinity and 1', () => {
    const a = luma(noise(24, 20, 1), 2);
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
  });

  it('PSNR matches 10 log10(255² / MSE) for a constant offset on Y', () => {
    const a = createImage(16, 16);
    const b = createImage(16, 16);
    a.data.fill(100);
    b.data.fill(110);
    // Y = 16 + (65.481 + 128.553 + 24.966) * v / 255 = 16 + 219 v / 255: an offset of 10 gives 219 * 10 / 255.
    const dy = (219 * 10) / 255;
    expect(psnr(luma(a), luma(b))).toBeCloseTo(10 * Math.log10((255 * 255) / (dy * dy)), 9);
  });

  it('unrelated noise scores far below a slightly perturbed copy', () => {
    const a = noise(32, 32, 3);
    const b = noise(32, 32, 4);
    const c = { ...a, data: a.data.map((v, i) => (i % 4 === 3 ? v : Math.min(255, v + 2))) };
    expect(ssim(luma(a), luma(b))).toBeLessThan(0.2);
    expect(ssim(luma(a), luma(c))).toBeGreaterThan(0.99);
  });

  it('the antialiased downscale keeps a flat image flat and bicubic restores it exactly', () => {
    const flat = createImage(32, 24);
    flat.data.fill(77);
    const lr = downscale(cropToMultiple(flat, 4), 4);
    expect([lr.width, lr.height]).toEqual([8, 6]);
    expect(new Set(lr.data.filter((_, i) => i % 4 !== 3))).toEqual(new Set([77]));
    expect(psnr(luma(flat), luma(bicubicUpscale(lr, 4)))).toBe(Infinity);
  });
});

const drealsr = ['drealsr', 'lr'];
const withShared =
  hasShared(...drealsr) && hasShared('drealsr', 'hr') && hasShared('drealsr', 'osediff');

describe('npm run eval --pairs (smoke)', () => {
  it(`scores 3 pairs ${withShared ? 'of DRealSR (with --results osediff)' : 'made here (no shared data)'} and writes the table, CSV and report`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-eval-'));
    const out = path.join(dir, 'out');
    let lrDir = sharedPath(...drealsr);
    let hrDir = sharedPath('drealsr', 'hr');
    const extra = withShared ? ['--results', `osediff=${sharedPath('drealsr', 'osediff')}`] : [];
    if (!withShared) {
      console.warn(`${missingShared(...drealsr)}; using generated pairs`);
      ({ lrDir, hrDir } = await writeGeneratedPairs(dir, [
        [128, 96],
        [96, 128],
        [112, 112],
      ]));
      fs.writeFileSync(path.join(hrDir, 'notes.txt'), 'not an image');
    }
    const stdout = execFileSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin/run-ts.mjs'),
        path.join(repoRoot, 'tools/eval/main.ts'),
        '--pairs',
        lrDir,
        hrDir,
        '--model',
        'esrgan-slim-x4',
        ...extra,
        '--limit',
        '3',
        '--out',
        out,
        '--threads',
        '1',
      ],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env } },
    );
    const methods = ['bicubic', 'esrgan-slim-x4', ...(withShared ? ['osediff'] : [])];
    expect(stdout).toContain('| Method | PSNR-Y ↑ | SSIM-Y ↑ | NIQE ↓ | ms/image |');
    const table = fs.readFileSync(path.join(out, 'table.md'), 'utf8');
    for (const m of methods) expect(table).toContain(`| ${m} |`);
    const csv = fs.readFileSync(path.join(out, 'eval.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('image,method,psnr_y_db,ssim_y,niqe,ms');
    const rows = csv.slice(1).map((line) => line.split(','));
    expect(rows).toHaveLength(3 * methods.length);
    expect(rows.slice(0, methods.length).map((r) => r[1])).toEqual(methods);
    for (const r of rows) {
      expect(Number(r[2])).toBeGreaterThan(15);
      expect(Number(r[2])).toBeLessThan(60);
      expect(Number(r[3])).toBeGreaterThan(0.3);
      expect(Number(r[3])).toBeLessThanOrEqual(1);
      if (withShared) {
        expect(Number(r[4])).toBeGreaterThan(1);
        expect(Number(r[4])).toBeLessThan(20);
      }
      expect(r[5] === '').toBe(r[1] === 'osediff');
    }
    if (withShared) {
      // The first pair's OSEDiff figures as pyiqa logged them.
      const osediff = rows.find((r) => r[1] === 'osediff')!;
      expect(osediff[0]).toBe('Canon_10_x1.png');
      expect(Number(osediff[2])).toBeCloseTo(29.261, 2);
      expect(Number(osediff[3])).toBeCloseTo(0.8923, 3);
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="https?:/);
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    // Per image: LR, each method and HR, each at 100% and 400%.
    expect(srcs).toHaveLength(3 * (methods.length + 2) * 2);
    for (const src of srcs) expect(fs.existsSync(path.join(out, src))).toBe(true);
    expect(html).toContain('class="sortable"');
  }, 240_000);
});
