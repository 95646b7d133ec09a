/** The command line around packs: `convert onnx`, `convert test-unet`, `upscale --pack`. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePack } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import type { CliIo } from '../tools/cli/command.ts';
import { convertCommand } from '../tools/cli/commands/convert.ts';
import { upscaleCommand } from '../tools/cli/commands/upscale.ts';
import { parsePackManifest } from '../engine/latent/manifest.ts';
import { syntheticPhoto } from './helpers/rgba-images.ts';
import { tempDir } from './helpers/latent-packs.ts';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        add(String(chunk));
        cb();
      },
    });
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)) as unknown as NodeJS.WriteStream,
    out: () => out,
    err: () => err,
  };
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('gendr-latent-cli-');
});
afterAll(async () => tmp?.remove());

describe('gendr-web with packs', () => {
  it('convert onnx writes and checks a manifest for exported graphs', async () => {
    const dir = path.join(tmp.dir, 'exported');
    await writePack(dir, tinyGendrPack());
    await rm(path.join(dir, 'manifest.json'));
    const emb = path.join(tmp.dir, 'embeds.safetensors');
    await writeFile(emb, await readFile(path.join(dir, 'prompt_embeds.safetensors')));
    await rm(path.join(dir, 'prompt_embeds.safetensors'));
    const io = captureIo();
    const args = [
      'onnx',
      '--dir',
      dir,
      '--preset',
      'gendr',
      '--embeddings',
      emb,
      '--id',
      'x',
      '--name',
      'X',
      '--licence',
      'MIT',
    ];
    expect(await convertCommand.run(args, io), io.err()).toBe(0);
    const m = parsePackManifest(
      JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')),
    );
    expect(m.unet).toMatchObject({
      timestep: 500,
      alpha: 0.5,
      sigma: 0.5,
      embeddings: { shape: [1, 77, 1024] },
    });
    expect(m.vae.scalingFactor).toBe(0.24447420268654824);
    expect(Object.keys(m.files)).toHaveLength(4);
    // OSEDiff's preset has 4 latent channels: the graphs do not fit, and the command says why.
    const bad = captureIo();
    const osediff = args.map((a) => (a === 'gendr' ? 'osediff' : a));
    await expect(convertCommand.run(osediff, bad)).rejects.toThrow(
      /unet input sample has size 16 on axis 1/,
    );
    // ... and leaves the folder's manifest as it was.
    const after = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    expect(after.unet.timestep).toBe(500);
  });

  it('upscale --pack restores an image and reports per-stage times and peak memory', async () => {
    const dir = path.join(tmp.dir, 'tiny');
    await writePack(dir, tinyGendrPack());
    const image = syntheticPhoto(20, 12, 2);
    const input = path.join(tmp.dir, 'in.png');
    await sharp(Buffer.from(image.data), { raw: { width: 20, height: 12, channels: 4 } })
      .png()
      .toFile(input);
    const output = path.join(tmp.dir, 'out.png');
    const io = captureIo();
    const code = await upscaleCommand.run(
      [
        input,
        output,
        '--pack',
        dir,
        '--color-fix',
        'wavelet',
        '--decoder-tile',
        '4',
        '--report',
        '-q',
        '-t',
        '1',
      ],
      io,
    );
    expect(code, io.err()).toBe(0);
    const meta = await sharp(output).metadata();
    expect([meta.width, meta.height]).toEqual([80, 48]);
    const report = JSON.parse(io.out());
    expect(report.stages.map((s: { stage: string }) => s.stage)).toEqual([
      'prepare',
      'encode',
      'unet',
      'decode',
      'colorfix',
    ]);
    expect(report.stages.find((s: { stage: string }) => s.stage === 'decode').runs).toBeGreaterThan(
      1,
    );
    expect(report.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    await expect(
      upscaleCommand.run([input, output, '--pack', dir, '--color-fix', 'sepia'], captureIo()),
    ).rejects.toThrow(/--color-fix must be adain, wavelet or none/);
  });
});
