/**
 * The real gendr-web command line, spawned as a process on small generated images.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/shared.ts';
import { syntheticPhoto, withEllipseAlpha } from './helpers/rgba-images.ts';
import type { RgbaImage } from '../engine/image.ts';

const bin = path.join(repoRoot, 'bin', 'gendr-web.mjs');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function writePng(image: RgbaImage, file: string): Promise<void> {
  await sharp(Buffer.from(image.data), {
    raw: { width: image.width, height: image.height, channels: 4 },
  })
    .png()
    .toFile(file);
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gendr-cli-'));
  await writePng(syntheticPhoto(40, 30, 1), path.join(dir, 'small.png'));
  const batch = path.join(dir, 'batch');
  await fs.mkdir(batch);
  await writePng(syntheticPhoto(24, 20, 2), path.join(batch, 'a.png'));
  await writePng(withEllipseAlpha(syntheticPhoto(20, 16, 3)), path.join(batch, 'c.png'));
  await fs.writeFile(
    path.join(batch, 'b-broken.png'),
    Buffer.from('\x89PNG\r\n\x1a\nthis is not a png'),
  );
  await fs.writeFile(path.join(batch, 'notes.txt'), 'not an image');
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('gendr-web upscale', () => {
  it('upscales one file with the chosen model and reports progress', async () => {
    const out = path.join(dir, 'small@2x.png');
    const r = await cli(
      'upscale',
      path.join(dir, 'small.png'),
      out,
      '--model',
      'slim',
      '--scale',
      '2',
      '--threads',
      '1',
    );
    expect(r.stderr).toContain('esrgan-slim-x2');
    expect(r.stderr).toMatch(/small\.png: 1\/1 tiles \(100%\)/);
    expect(r.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 80, 60]);
  });

  it('defaults to realesr-general-x4v3 and picks the format from the extension', async () => {
    const out = path.join(dir, 'small.webp');
    const r = await cli('upscale', '-q', path.join(dir, 'small.png'), out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 160, 120]);
  });

  it('resizes any model to --scale 2 or 3 after its own scale (Lanczos)', async () => {
    const out = path.join(dir, 'small@3x.png');
    const r = await cli(
      'upscale',
      '-m',
      'esrgan-slim-x2',
      '-s',
      '3',
      path.join(dir, 'small.png'),
      out,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('120x90 with esrgan-slim-x2 (x2, resized)');
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([120, 90]);
  });

  it('does a folder, names outputs <name>@<scale>x, and reports a broken file by name', async () => {
    const out = path.join(dir, 'batch-out');
    const r = await cli('upscale', path.join(dir, 'batch'), out, '-m', 'esrgan-slim-x2', '-t', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${path.join(dir, 'batch', 'b-broken.png')}:`);
    expect(r.stderr).toContain('2 of 3 image(s) upscaled, 1 failed');
    expect((await fs.readdir(out)).sort()).toEqual(['a@2x.png', 'c@2x.png']);
    const a = await sharp(path.join(out, 'a@2x.png')).metadata();
    expect([a.width, a.height]).toEqual([48, 40]);
    // The transparent background stays transparent.
    const { data, info } = await sharp(path.join(out, 'c@2x.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([40, 32, 4]);
    expect(data[3]).toBe(0);
    expect(data[(16 * 40 + 20) * 4 + 3]).toBe(255);
  });

  it('fails clearly on a missing input', async () => {
    const r = await cli('upscale', path.join(dir, 'nope.png'), path.join(dir, 'x.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'nope.png')}: no such file or folder`);
  });

  it.each([
    [['upscale', 'a.png', 'b.png', '--nope'], "Unknown option '--nope'"],
    [['upscale', 'a.png'], 'expected <input> and <output>'],
    [['upscale', '--scale', 'two', 'a.png', 'b.png'], '--scale must be an integer'],
    [['upscale', '--model', 'huge', 'a.png', 'b.png'], "unknown model 'huge'"],
    [['upscale', '--model', 'esrgan-slim-x2', '--scale', '8', 'a.png', 'b.png'], 'conflicts'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('rejects a wrong command line: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('has --help', async () => {
    const r = await cli('upscale', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: gendr-web upscale <input> <output>');
    expect(r.stdout).toContain('--threads');
  });
});

describe('gendr-web models', () => {
  it('lists the built-in models from index.json', async () => {
    const index = JSON.parse(
      await fs.readFile(path.join(repoRoot, 'public/models/index.json'), 'utf8'),
    ) as {
      default: string;
      models: { id: string; scale: number }[];
    };
    const r = await cli('models');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(index.models.length + 1);
    for (const m of index.models) {
      expect(r.stdout).toMatch(
        new RegExp(`^[* ] ${m.id}\\s+x${m.scale}\\s+\\d+\\.\\d MB  \\S`, 'm'),
      );
    }
    expect(r.stdout).toContain(`* ${index.default}`);
  });

  it('has --help and --json', async () => {
    expect((await cli('models', '--help')).stdout).toContain('Usage: gendr-web models');
    const json = JSON.parse((await cli('models', '--json')).stdout) as { version: number };
    expect(json.version).toBe(1);
  });
});

describe('gendr-web', () => {
  it('lists its commands', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}upscale {2}/m);
    expect(r.stdout).toMatch(/^ {2}models {3}/m);
  });
});
