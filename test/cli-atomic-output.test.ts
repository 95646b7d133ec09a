/**
 * A conversion or `gendr-web pack` that fails leaves its output folder exactly as it was: the real
 * CLI, spawned as a process, on tiny random models with inputs that fail part-way (after a graph
 * has been written).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { withAtomicOutput } from '../tools/cli/atomic-output.ts';
import { TINY_UNET, TINY_VAE } from './helpers/sd-tiny.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const bin = path.join(repoRoot, 'bin', 'gendr-web.mjs');

function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

/** Every file under `dir` (relative path → sha256), or null when `dir` does not exist. */
function snapshot(dir: string): Record<string, string> | null {
  if (!fs.existsSync(dir)) return null;
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(dir, rel);
    if (fs.statSync(file).isFile()) {
      out[rel] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    }
  }
  return out;
}

let dir: string;
let unetConfig: string;
let vaeConfig: string;
let wrongEmbedding: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-atomic-'));
  unetConfig = path.join(dir, 'unet-config.json');
  vaeConfig = path.join(dir, 'vae-config.json');
  fs.writeFileSync(unetConfig, JSON.stringify(TINY_UNET));
  fs.writeFileSync(vaeConfig, JSON.stringify(TINY_VAE));
  // Checked only after the UNet graph is written: the width does not match the UNet's.
  wrongEmbedding = path.join(dir, 'wide.safetensors');
  await writeSafetensorsFile(wrongEmbedding, [
    { name: 'prompt_embeds', dtype: 'F32', shape: [1, 77, 24], data: new Float32Array(77 * 24) },
  ]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The names in the parent folder other than the inputs: no temporary folder may be left. */
const siblings = () =>
  fs
    .readdirSync(dir)
    .filter((n) => !n.endsWith('.json') && !n.endsWith('.safetensors'))
    .sort();

describe('failed conversions leave the output as it was', () => {
  it('convert sd-unet into an existing pack: the pack is unchanged', async () => {
    const pack = path.join(dir, 'vae-only');
    const vae = await cli('convert', 'sd-vae', '--random', '--config', vaeConfig, '--out', pack);
    expect(vae.code, vae.stderr).toBe(0);
    const before = snapshot(pack);
    expect(Object.keys(before ?? {})).toContain('manifest.json');

    const unet = await cli(
      'convert',
      'sd-unet',
      '--random',
      '--config',
      unetConfig,
      '--embedding',
      wrongEmbedding,
      '--out',
      pack,
    );
    expect(unet.code).not.toBe(0);
    expect(unet.stderr).toMatch(/prompt_embeds is \[1, 77, 24\]/);
    expect(unet.stderr).not.toMatch(/\.partial-/);
    expect(snapshot(pack)).toEqual(before);
    expect(fs.existsSync(path.join(pack, 'unet'))).toBe(false);
    expect(siblings()).toEqual(['vae-only']);
  });

  it('gendr-web pack into a new folder: nothing is created', async () => {
    const pack = path.join(dir, 'never');
    const run = await cli(
      'pack',
      '--preset',
      'gendr',
      '--random',
      '--unet-config',
      unetConfig,
      '--vae-config',
      vaeConfig,
      '--embedding',
      wrongEmbedding,
      '--out',
      pack,
    );
    expect(run.code).not.toBe(0);
    expect(snapshot(pack)).toBeNull();
    expect(siblings()).toEqual(['vae-only']);
  });

  it('a successful command replaces the folder, keeping what it did not rewrite', async () => {
    const target = path.join(dir, 'plain');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'kept.txt'), 'kept');
    fs.writeFileSync(path.join(target, 'changed.txt'), 'old');
    await expect(
      withAtomicOutput(target, (work) => {
        fs.writeFileSync(path.join(work, 'changed.txt'), 'half-written');
        throw new Error(`failed in ${work}`);
      }),
    ).rejects.toThrow(`failed in ${target}`);
    expect(fs.readdirSync(target).sort()).toEqual(['changed.txt', 'kept.txt']);
    expect(fs.readFileSync(path.join(target, 'changed.txt'), 'utf8')).toBe('old');
    await withAtomicOutput(target, (work) =>
      fs.writeFileSync(path.join(work, 'changed.txt'), 'new'),
    );
    expect(fs.readFileSync(path.join(target, 'kept.txt'), 'utf8')).toBe('kept');
    expect(fs.readFileSync(path.join(target, 'changed.txt'), 'utf8')).toBe('new');
    expect(siblings()).toEqual(['plain', 'vae-only']);
  });
});
