/**
 * `gendr-web pack` and `convert sd-vae` / `convert sd-unet` on tiny configs: complete packs whose
 * manifest validates, whose sizes and sha256s match the files, which the engine's pack loader
 * accepts, and which restore an image from the command line.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirPackSource } from '../tools/builder/pack-dir.ts';
import { writeSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { sdUnetConverter, sdVaeConverter } from '../tools/cli/commands/convert-sd.ts';
import { packCommand } from '../tools/cli/commands/pack.ts';
import type { CliIo } from '../tools/cli/command.ts';
import { parseUnetConfig } from '../tools/builder/architectures/sd-unet/config.ts';
import { planUnet, unetTensorSpecs } from '../tools/builder/architectures/sd-unet/plan.ts';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { writeRandomSafetensors } from '../tools/builder/random-weights.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import { parsePackManifest, type PackManifest } from '../engine/latent/manifest.ts';
import { loadPack } from '../engine/latent/pack-loader.ts';
import { GENDR_PRESET } from '../engine/latent/presets.ts';
import { repoRoot } from './helpers/shared.ts';
import { signal, TINY_UNET, TINY_VAE } from './helpers/sd-tiny.ts';

const bin = path.join(repoRoot, 'bin', 'gendr-web.mjs');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let unetConfig: string;
let vaeConfig: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-sd-pack-'));
  unetConfig = path.join(dir, 'unet-config.json');
  vaeConfig = path.join(dir, 'vae-config.json');
  fs.writeFileSync(unetConfig, JSON.stringify(TINY_UNET));
  fs.writeFileSync(vaeConfig, JSON.stringify(TINY_VAE));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function readManifest(pack: string): PackManifest {
  return parsePackManifest(JSON.parse(fs.readFileSync(path.join(pack, 'manifest.json'), 'utf8')));
}

function expectHashesMatch(pack: string, m: PackManifest): void {
  for (const [rel, entry] of Object.entries(m.files)) {
    const bytes = fs.readFileSync(path.join(pack, rel));
    expect(bytes.byteLength, rel).toBe(entry.bytes);
    expect(createHash('sha256').update(bytes).digest('hex'), rel).toBe(entry.sha256);
  }
}

async function expectLoads(pack: string): Promise<void> {
  const loaded = await loadPack(
    dirPackSource(pack),
    createOrtNodeRuntime({ intraOpNumThreads: 1 }),
  );
  expect(loaded.packInterface.unet).toMatchObject({ timestepType: 'int64', type: 'float32' });
  await loaded.release();
}

describe('gendr-web pack', () => {
  const pack = () => path.join(dir, 'gendr-tiny');

  it('builds a complete GenDR-preset pack from random weights', async () => {
    const r = await cli(
      'pack',
      '--preset',
      'gendr',
      '--random',
      '--seed',
      '3',
      '--unet-config',
      unetConfig,
      '--vae-config',
      vaeConfig,
      '--out',
      pack(),
    );
    expect(r.stderr).toMatch(/wrote pack 'gendr-random-fp32'/);
    expect(r.code).toBe(0);
    const m = readManifest(pack());
    expect(Object.keys(m.files).sort()).toEqual([
      'prompt_embeds.safetensors',
      'unet/model.onnx',
      'vae_decoder/model.onnx',
      'vae_decoder_segmented/mid_attention.onnx',
      'vae_decoder_segmented/mid_post.onnx',
      'vae_decoder_segmented/mid_pre.onnx',
      'vae_decoder_segmented/up.onnx',
      'vae_encoder/model.onnx',
      'vae_encoder_segmented/down.onnx',
      'vae_encoder_segmented/mid_attention.onnx',
      'vae_encoder_segmented/mid_post.onnx',
      'vae_encoder_segmented/mid_pre.onnx',
    ]);
    // The seam-free KL VAE (engine/latent/kl-vae/) comes with every built pack.
    // Its mid graphs split at the attention (run over chunks of query rows).
    expect(m.vae.segmentedDecoder).toMatchObject({
      chunkedMid: {
        pre: 'vae_decoder_segmented/mid_pre.onnx',
        attention: 'vae_decoder_segmented/mid_attention.onnx',
        post: 'vae_decoder_segmented/mid_post.onnx',
      },
      up: 'vae_decoder_segmented/up.onnx',
      // Its graphs return each norm's moments over the tile's core, not the norm's input.
      stats: 'core-moments',
    });
    expect(m.vae.segmentedDecoder?.mid).toBeUndefined();
    expect(m.vae.segmentedEncoder).toMatchObject({
      down: 'vae_encoder_segmented/down.onnx',
      chunkedMid: {
        pre: 'vae_encoder_segmented/mid_pre.onnx',
        attention: 'vae_encoder_segmented/mid_attention.onnx',
        post: 'vae_encoder_segmented/mid_post.onnx',
      },
      stats: 'core-moments',
    });
    expect(m.vae).toMatchObject({
      latentChannels: 16,
      downscaleFactor: 2,
      scalingFactor: GENDR_PRESET.scalingFactor,
    });
    expect(m.unet).toMatchObject({ timestep: 500, alpha: 0.5, sigma: 0.5, prediction: 'epsilon' });
    expect(m.unet?.embeddings.shape).toEqual([1, 77, 32]);
    expectHashesMatch(pack(), m);
    await expectLoads(pack());
  });

  it('the pack restores an image from the command line', async () => {
    const input = path.join(dir, 'in.png');
    const rgb = Buffer.from(signal(12 * 10 * 3, 0.7).map((v) => Math.round(127.5 + 120 * v)));
    await sharp(rgb, { raw: { width: 12, height: 10, channels: 3 } })
      .png()
      .toFile(input);
    const out = path.join(dir, 'out.png');
    const r = await cli('upscale', input, out, '--pack', pack());
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([48, 40]);
  });

  it('needs an embedding unless the weights are random', async () => {
    const r = await cli(
      'pack',
      '--preset',
      'gendr',
      '--unet',
      unetConfig,
      '--vae',
      vaeConfig,
      '--out',
      path.join(dir, 'x'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--embedding <file\.safetensors> is required/);
  });
});

/** Collects what a command writes. */
function captureIo(): CliIo & { text: () => string } {
  const chunks: string[] = [];
  const sink = {
    write: (c: string | Uint8Array) => (chunks.push(String(c)), true),
    isTTY: false,
  } as unknown as NodeJS.WriteStream;
  return { stdout: sink, stderr: sink, text: () => chunks.join('') };
}

describe('gendr-web pack from diffusers folders (config.json + diffusion_pytorch_model.safetensors)', () => {
  it('finds each config beside its weights and packs the given embedding', async () => {
    const root = path.join(dir, 'diffusers');
    await writeRandomSafetensors(
      path.join(root, 'unet', 'diffusion_pytorch_model.safetensors'),
      unetTensorSpecs(planUnet(parseUnetConfig(TINY_UNET))),
      5,
      'F16',
    );
    fs.copyFileSync(unetConfig, path.join(root, 'unet', 'config.json'));
    await writeRandomSafetensors(
      path.join(root, 'vae', 'diffusion_pytorch_model.safetensors'),
      vaeTensorSpecs(planVae(parseVaeConfig(TINY_VAE))),
      6,
    );
    fs.copyFileSync(vaeConfig, path.join(root, 'vae', 'config.json'));
    const embedding = path.join(root, 'prompt.safetensors');
    await writeSafetensorsFile(embedding, [
      { name: 'prompt_embeds', dtype: 'F16', shape: [1, 77, 32], data: new Uint16Array(77 * 32) },
    ]);
    const pack = path.join(dir, 'from-diffusers');
    const io = captureIo();
    const code = await packCommand.run(
      [
        '--preset',
        'gendr',
        '--unet',
        path.join(root, 'unet'),
        '--vae',
        path.join(root, 'vae'),
        '--embedding',
        embedding,
        '--dtype',
        'fp16',
        '--out',
        pack,
      ],
      io,
    );
    expect(code, io.text()).toBe(0);
    expect(io.text()).toMatch(/unet: [\d.]+ M parameters/);
    const m = readManifest(pack);
    expect(m.precision).toBe('fp16');
    expect(m.id).toBe('gendr-fp16');
    expectHashesMatch(pack, m);
  });
});

describe('gendr-web convert sd-vae, then sd-unet into the same pack', () => {
  it('gives a loadable pack with the given embedding', async () => {
    const pack = path.join(dir, 'two-step');
    const vae = await sdVaeConverter.run([
      '--random',
      '--seed',
      '4',
      '--config',
      vaeConfig,
      '--out',
      pack,
    ]);
    expect(vae.unet).toBeUndefined();
    expect(Object.keys(vae.files).sort()).toEqual([
      'vae_decoder/model.onnx',
      'vae_decoder_segmented/mid_attention.onnx',
      'vae_decoder_segmented/mid_post.onnx',
      'vae_decoder_segmented/mid_pre.onnx',
      'vae_decoder_segmented/up.onnx',
      'vae_encoder/model.onnx',
      'vae_encoder_segmented/down.onnx',
      'vae_encoder_segmented/mid_attention.onnx',
      'vae_encoder_segmented/mid_post.onnx',
      'vae_encoder_segmented/mid_pre.onnx',
    ]);

    const embedding = path.join(dir, 'prompt.safetensors');
    await writeSafetensorsFile(embedding, [
      { name: 'prompt_embeds', dtype: 'F32', shape: [1, 77, 32], data: signal(77 * 32, 0.2) },
    ]);
    const m = await sdUnetConverter.run([
      '--random',
      '--config',
      unetConfig,
      '--embedding',
      embedding,
      '--preset',
      'gendr',
      '--out',
      pack,
    ]);
    expect(m.unet).toMatchObject({
      timestep: 500,
      embeddings: { positive: 'prompt_embeds', shape: [1, 77, 32] },
    });
    // Adding the UNet keeps the VAE's segmented forms.
    expect(m.vae.segmentedEncoder).toEqual(vae.vae.segmentedEncoder);
    expect(m.vae.segmentedDecoder).toEqual(vae.vae.segmentedDecoder);
    expect(m.files['prompt_embeds.safetensors'].sha256).toBe(
      createHash('sha256').update(fs.readFileSync(embedding)).digest('hex'),
    );
    expectHashesMatch(pack, readManifest(pack));
    await expectLoads(pack);
  });

  it('sd-unet refuses a folder that is not a pack, and an embedding of the wrong width', async () => {
    await expect(
      sdUnetConverter.run(['--random', '--config', unetConfig, '--out', path.join(dir, 'nothing')]),
    ).rejects.toThrow(/not a pack \(no manifest\.json\): convert the VAE into it first/);
    const wrong = path.join(dir, 'wide.safetensors');
    await writeSafetensorsFile(wrong, [
      {
        name: 'prompt_embeds',
        dtype: 'F32',
        shape: [1, 77, 1024],
        data: new Float32Array(77 * 1024),
      },
    ]);
    await expect(
      sdUnetConverter.run([
        '--random',
        '--config',
        unetConfig,
        '--embedding',
        wrong,
        '--out',
        path.join(dir, 'two-step'),
      ]),
    ).rejects.toThrow(/prompt_embeds is \[1, 77, 1024\]; the UNet takes \[1, tokens, 32\]/);
  });
});
