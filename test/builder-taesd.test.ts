/**
 * Proof 1 of the latent pipeline issue: TAEF2 converted from .safetensors to ONNX by our builder
 * (through the `gendr-web convert taesd` command) round-trips chelsea.png at ≥ 30 dB PSNR.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTaesd } from '../tools/builder/architectures/taesd.ts';
import { WeightStore } from '../tools/builder/weights.ts';
import { readSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { convertCommand } from '../tools/cli/commands/convert.ts';
import type { CliIo } from '../tools/cli/command.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import type { RgbaImage } from '../engine/image.ts';
import { parsePackManifest } from '../engine/latent/manifest.ts';
import { cropPlanar, planarToRgba, rgbaToPlanar } from '../engine/latent/planar.ts';
import type { EngineSession } from '../engine/session.ts';
import { float32Data } from '../engine/session.ts';
import { crop } from './helpers/rgba-images.ts';
import {
  CHELSEA,
  hasTaef2,
  nodeRuntime,
  psnrRgb,
  taef2Weights,
  tempDir,
  TAEF2_DECODER,
  TAEF2_ENCODER,
} from './helpers/latent-packs.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';

const ready = hasTaef2 && hasShared(...CHELSEA);

function captureIo(): CliIo & { err: () => string } {
  let err = '';
  const sink = () =>
    new Writable({
      write(chunk, _enc, cb) {
        err += String(chunk);
        cb();
      },
    });
  return { stdout: sink(), stderr: sink() as unknown as NodeJS.WriteStream, err: () => err };
}

/** Encode then decode with [0, 1] images; edges replicated up to a multiple of 8, then cropped. */
async function roundTrip(
  enc: EngineSession,
  dec: EngineSession,
  image: RgbaImage,
): Promise<RgbaImage> {
  const W = Math.ceil(image.width / 8) * 8;
  const H = Math.ceil(image.height / 8) * 8;
  const input = cropPlanar(rgbaToPlanar(image), 0, 0, W, H);
  const { latent_sample: z } = await enc.run({
    sample: nodeRuntime.tensor('float32', input.data, [1, 3, H, W]),
  });
  expect(z.dims).toEqual([1, 32, H / 8, W / 8]);
  const { sample } = await dec.run({ latent_sample: z });
  const out = {
    channels: 3,
    width: W,
    height: H,
    data: float32Data(sample).map((v) => Math.min(1, Math.max(0, v))),
  };
  return planarToRgba(cropPlanar(out, 0, 0, image.width, image.height));
}

describe.skipIf(!ready)('TAESD builder on TAEF2', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let packDir: string;

  beforeAll(async () => {
    tmp = await tempDir();
    packDir = path.join(tmp.dir, 'taef2');
    const io = captureIo();
    const code = await convertCommand.run(
      [
        'taesd',
        '--encoder',
        sharedPath(...TAEF2_ENCODER),
        '--decoder',
        sharedPath(...TAEF2_DECODER),
        '--out',
        packDir,
      ],
      io,
    );
    expect(code, io.err()).toBe(0);
  });
  afterAll(async () => tmp?.remove());

  it('writes a valid VAE pack with the optimum layout', async () => {
    const m = parsePackManifest(
      JSON.parse(await readFile(path.join(packDir, 'manifest.json'), 'utf8')),
    );
    expect(Object.keys(m.files).sort()).toEqual([
      'vae_decoder/model.onnx',
      'vae_encoder/model.onnx',
    ]);
    expect(m.vae).toMatchObject({
      latentChannels: 32,
      downscaleFactor: 8,
      imageRange: [0, 1],
      encoderOutput: 'latent_sample',
    });
    expect(m.unet).toBeUndefined();
    const enc = decodeModel(await readFile(path.join(packDir, 'vae_encoder/model.onnx')));
    expect(enc.graph?.input?.map((i) => i.name)).toEqual(['sample']);
    expect(enc.graph?.output?.map((o) => o.name)).toEqual(['latent_sample']);
    // The FLUX.2 variant's GroupNorm "pool" branches are in the graph (3 in the encoder).
    expect(enc.graph?.node?.filter((n) => n.opType === 'InstanceNormalization')).toHaveLength(3);
  });

  it('round-trips chelsea.png at ≥ 30 dB PSNR', async () => {
    const enc = await nodeRuntime.createSession(path.join(packDir, 'vae_encoder/model.onnx'));
    const dec = await nodeRuntime.createSession(path.join(packDir, 'vae_decoder/model.onnx'));
    const image = await decodeImage(sharedPath(...CHELSEA));
    const psnr = psnrRgb(await roundTrip(enc, dec, image), image);
    console.log(
      `TAEF2 (converted) round trip of chelsea.png ${image.width}x${image.height}: ${psnr.toFixed(2)} dB`,
    );
    expect(psnr).toBeGreaterThanOrEqual(30);
    await enc.release?.();
    await dec.release?.();
  });

  it('builds an fp16 graph that agrees with fp32 (crop, ≥ 35 dB)', async () => {
    const w = await taef2Weights();
    const fp32 = buildTaesd(w, { precision: 'fp32' });
    const w16 = await taef2Weights();
    const fp16 = buildTaesd(w16, { precision: 'fp16' });
    const image = crop(await decodeImage(sharedPath(...CHELSEA)), 160, 80, 96, 64);
    const run = async (graphs: typeof fp32.graphs, type: 'float32' | 'float16') => {
      const enc = await nodeRuntime.createSession(graphs[0].model);
      const dec = await nodeRuntime.createSession(graphs[1].model);
      expect(enc.inputMetadata?.[0]).toMatchObject({ name: 'sample', type });
      const { floatTensor, readFloat } = await import('../engine/latent/tensors.ts');
      const input = rgbaToPlanar(image);
      const { latent_sample: z } = await enc.run({
        sample: floatTensor(nodeRuntime, type, input.data, [1, 3, 64, 96]),
      });
      const { sample } = await dec.run({ latent_sample: z });
      const out = readFloat(sample, 'decoder').map((v) => Math.min(1, Math.max(0, v)));
      return planarToRgba({ channels: 3, width: 96, height: 64, data: out });
    };
    const a = await run(fp32.graphs, 'float32');
    const b = await run(fp16.graphs, 'float16');
    expect(psnrRgb(a, b)).toBeGreaterThanOrEqual(35);
  });

  it('fails clearly when the weights are not the architecture it expects', async () => {
    const dec = await readSafetensorsFile(sharedPath(...TAEF2_DECODER));
    expect(() =>
      buildTaesd({ encoder: new WeightStore(dec, 'decoder-as-encoder') }, { precision: 'fp32' }),
    ).toThrow(/decoder-as-encoder: missing tensor 14\.weight/);
  });
});

if (!ready) it.skip(missingShared(...TAEF2_ENCODER), () => {});
