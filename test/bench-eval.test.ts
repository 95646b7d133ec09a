/**
 * Smoke test of `npm run eval` (tools/eval/main.ts) on one tiny image, and checks of its metrics.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createImage } from '../engine/image.ts';
import { bicubicUpscale, cropToMultiple, downscale } from '../tools/eval/degrade.ts';
import { luma, psnr, ssim } from '../tools/eval/metrics.ts';
import { hasShared, sharedPath } from './helpers/shared.ts';
import { repoRoot } from './helpers/shared.ts';

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

describe('npm run eval (smoke)', () => {
  it('writes a CSV and an HTML report for a tiny image', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-eval-'));
    const input = path.join(dir, 'in');
    const out = path.join(dir, 'out');
    fs.mkdirSync(input);
    const source = hasShared('images', 'chelsea.png')
      ? sharp(sharedPath('images', 'chelsea.png')).extract({
          left: 180,
          top: 60,
          width: 64,
          height: 48,
        })
      : sharp(Buffer.from(noise(64, 48, 7).data), { raw: { width: 64, height: 48, channels: 4 } });
    await source.png().toFile(path.join(input, 'tiny.png'));
    fs.writeFileSync(path.join(input, 'notes.txt'), 'not an image');
    const stdout = execFileSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin/run-ts.mjs'),
        path.join(repoRoot, 'tools/eval/main.ts'),
        input,
        '--model',
        'esrgan-slim-x4',
        '--scale',
        '4',
        '--out',
        out,
        '--threads',
        '1',
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(stdout).toContain('mean esrgan-slim-x4');
    const csv = fs.readFileSync(path.join(out, 'eval.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('image,method,psnr_y_db,ssim_y,ms');
    const rows = csv.slice(1).map((line) => line.split(','));
    expect(rows.map((r) => r[1])).toEqual(['bicubic', 'esrgan-slim-x4']);
    for (const r of rows) {
      expect(Number(r[2])).toBeGreaterThan(15);
      expect(Number(r[2])).toBeLessThan(60);
      expect(Number(r[3])).toBeGreaterThan(0.3);
      expect(Number(r[3])).toBeLessThanOrEqual(1);
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('tiny.png');
    expect(html).toContain('antialiasing');
    for (const src of [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1])) {
      expect(fs.existsSync(path.join(out, src))).toBe(true);
    }
    expect([...html.matchAll(/<img /g)]).toHaveLength(3);
  });
});
