/**
 * Graph forms per backend and fp16 graphs with fp32 inputs and outputs, on tiny SD packs:
 * - `--form both` packs hold plain graphs at the standard paths and a fused variant that the
 *   manifest assigns to WebGPU and onnxruntime-node; loadPack picks by the runtime's backend (or
 *   a forced form), and both forms restore the same image;
 * - fp16 packs take and return float32 by default (Casts inside the graphs), which the pack check
 *   accepts and the pipeline feeds; `--io-dtype fp16` keeps pure fp16 graphs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertOnnx } from '../tools/builder/convert-onnx.ts';
import { FUSED_VARIANT } from '../tools/builder/sd-pack.ts';
import { sdUnetConverter, sdVaeConverter } from '../tools/cli/commands/convert-sd.ts';
import type { RgbaImage } from '../engine/image.ts';
import {
  PackManifestError,
  PackVariantError,
  parsePackManifest,
  selectPackGraphs,
  type GraphForm,
  type PackManifest,
} from '../engine/latent/manifest.ts';
import { dirPackSource } from '../tools/builder/pack-dir.ts';
import { loadPack } from '../engine/latent/pack-loader.ts';
import { runPack } from '../engine/latent/pipeline.ts';
import type { EngineRuntime } from '../engine/session.ts';
import { nodeRuntime, tempDir } from './helpers/latent-packs.ts';
import { maxAbsDiff, syntheticPhoto } from './helpers/rgba-images.ts';
import { TINY_UNET, TINY_VAE, writeTinySdPack } from './helpers/sd-tiny.ts';

const INPUT = syntheticPhoto(6, 5, 7);
/** onnxruntime-node under another backend's name, to see what loadPack picks there. */
const asBackend = (backend: string): EngineRuntime => ({ ...nodeRuntime, backend });

let tmp: Awaited<ReturnType<typeof tempDir>>;
let both: string;
let bothManifest: PackManifest;

beforeAll(async () => {
  tmp = await tempDir('gendr-sd-forms-');
  both = path.join(tmp.dir, 'both');
  bothManifest = writeTinySdPack(both, { seed: 8, form: 'both' });
});
afterAll(async () => tmp?.remove());

async function restore(
  dir: string,
  runtime: EngineRuntime = nodeRuntime,
  form: GraphForm | 'auto' = 'auto',
): Promise<{ image: RgbaImage; form: GraphForm; types: string[] }> {
  const pack = await loadPack(dirPackSource(dir), runtime, { form });
  try {
    const image = await runPack(pack.sessions, pack.manifest, INPUT, {
      tensors: runtime,
      embeddings: pack.embeddings,
      packInterface: pack.packInterface,
    });
    const io = pack.packInterface;
    return {
      image,
      form: pack.graphs.form,
      types: [io.encoder.type, io.unet!.type, io.decoder.type],
    };
  } finally {
    await pack.release();
  }
}

describe('graph forms per backend', () => {
  it('a `both` pack lists the fused graphs as a variant for onnxruntime-node', () => {
    // Not WASM (overflow at 4096 tokens, not faster) nor WebGPU (wrong MultiHeadAttention values
    // in onnxruntime-web 1.30, e2e/sd-pack-parity.spec.ts).
    expect(FUSED_VARIANT.backends).toEqual(['cpu']);
    expect(bothManifest.graphs).toEqual({
      form: 'plain',
      variants: [
        {
          form: 'fused',
          backends: ['cpu'],
          files: {
            'vae_encoder/model.onnx': 'fused/vae_encoder/model.onnx',
            'unet/model.onnx': 'fused/unet/model.onnx',
            'vae_decoder/model.onnx': 'fused/vae_decoder/model.onnx',
          },
        },
      ],
    });
    const fusedUnet = fs.readFileSync(path.join(both, 'fused/unet/model.onnx'));
    expect(fusedUnet.includes('MultiHeadAttention')).toBe(true);
    expect(fs.readFileSync(path.join(both, 'unet/model.onnx')).includes('MultiHeadAttention')).toBe(
      false,
    );
    for (const backend of ['wasm', 'webgpu']) {
      expect(selectPackGraphs(bothManifest, backend)).toMatchObject({
        form: 'plain',
        unet: 'unet/model.onnx',
      });
    }
    expect(selectPackGraphs(bothManifest, 'cpu')).toMatchObject({
      form: 'fused',
      vaeEncoder: 'fused/vae_encoder/model.onnx',
      unet: 'fused/unet/model.onnx',
      vaeDecoder: 'fused/vae_decoder/model.onnx',
    });
  });

  it('--fused-backends routes other backends to the fused variant', async () => {
    const dir = path.join(tmp.dir, 'fused-webgpu');
    const vaeConfig = path.join(tmp.dir, 'vae-fb.json');
    fs.writeFileSync(vaeConfig, JSON.stringify(TINY_VAE));
    const m = await sdVaeConverter.run([
      '--random',
      '--config',
      vaeConfig,
      '--form',
      'both',
      '--fused-backends',
      'webgpu,cpu',
      '--out',
      dir,
    ]);
    expect(m.graphs?.variants[0].backends).toEqual(['webgpu', 'cpu']);
    expect(selectPackGraphs(m, 'webgpu').form).toBe('fused');
    await expect(
      sdVaeConverter.run([
        '--random',
        '--config',
        vaeConfig,
        '--fused-backends',
        'gpu',
        '--out',
        dir,
      ]),
    ).rejects.toThrow(/--fused-backends goes with --form both/);
    await expect(
      sdVaeConverter.run([
        '--random',
        '--config',
        vaeConfig,
        '--form',
        'both',
        '--fused-backends',
        'gpu',
        '--out',
        dir,
      ]),
    ).rejects.toThrow(/comma-separated list of webgpu, wasm, cpu; got 'gpu'/);
  });

  it('loadPack picks the form by backend, or the one asked for; both forms restore the same image', async () => {
    const cpu = await restore(both);
    const wasm = await restore(both, asBackend('wasm'));
    const forcedPlain = await restore(both, nodeRuntime, 'plain');
    const forcedFused = await restore(both, asBackend('wasm'), 'fused');
    expect([cpu.form, wasm.form, forcedPlain.form, forcedFused.form]).toEqual([
      'fused',
      'plain',
      'plain',
      'fused',
    ]);
    const d = maxAbsDiff(cpu.image, wasm.image);
    console.log(`tiny SD pack, fused vs plain on onnxruntime-node: max ${d}/255`);
    expect(d).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(cpu.image, forcedFused.image)).toBe(0);
    expect(maxAbsDiff(wasm.image, forcedPlain.image)).toBe(0);
  });

  it('a pack without the asked-for form says which it has', async () => {
    const fused = path.join(tmp.dir, 'fused-only');
    const m = writeTinySdPack(fused, { seed: 8, form: 'fused' });
    expect(m.graphs).toEqual({ form: 'fused', variants: [] });
    expect(() => selectPackGraphs(m, 'wasm', 'plain')).toThrow(PackVariantError);
    await expect(loadPack(dirPackSource(fused), nodeRuntime, { form: 'plain' })).rejects.toThrow(
      /has no plain graphs \(it has fused\)/,
    );
  });

  it('the manifest check names bad variants', () => {
    const bad = structuredClone(bothManifest) as unknown as {
      graphs: { variants: { backends: string[]; files: Record<string, string> }[] };
    };
    bad.graphs.variants[0].files['unet/model.onnx'] = 'fused/unet/missing.onnx';
    bad.graphs.variants.push({ ...bad.graphs.variants[0], backends: ['cpu'] } as never);
    let error: unknown;
    try {
      parsePackManifest(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PackManifestError);
    expect((error as Error).message).toMatch(/fused\/unet\/missing\.onnx is not listed in files/);
    expect((error as Error).message).toMatch(/variants\[1\]: backend cpu has a variant already/);
    expect((error as PackManifestError).fields).toContain('graphs');
  });

  it('`convert sd-vae --form both` then `convert sd-unet` gives the UNet both forms', async () => {
    const dir = path.join(tmp.dir, 'two-step');
    const vaeConfig = path.join(tmp.dir, 'vae.json');
    const unetConfig = path.join(tmp.dir, 'unet.json');
    fs.writeFileSync(vaeConfig, JSON.stringify(TINY_VAE));
    fs.writeFileSync(unetConfig, JSON.stringify(TINY_UNET));
    const vae = await sdVaeConverter.run([
      '--random',
      '--config',
      vaeConfig,
      '--form',
      'both',
      '--out',
      dir,
    ]);
    expect(Object.keys(vae.graphs!.variants[0].files)).toEqual([
      'vae_encoder/model.onnx',
      'vae_decoder/model.onnx',
    ]);
    await expect(
      sdUnetConverter.run(['--random', '--config', unetConfig, '--form', 'plain', '--out', dir]),
    ).rejects.toThrow(/the pack's graphs are plain, with a fused variant/);
    const m = await sdUnetConverter.run(['--random', '--config', unetConfig, '--out', dir]);
    expect(m.graphs?.variants[0].files['unet/model.onnx']).toBe('fused/unet/model.onnx');
    expect(m.files['fused/unet/model.onnx'].bytes).toBeGreaterThan(0);
    expect((await restore(dir)).form).toBe('fused');
  });
});

describe('fp16 packs with fp32 inputs and outputs', () => {
  let fp16: string;
  let fp16io: string;
  let fp32: string;
  beforeAll(() => {
    fp16 = path.join(tmp.dir, 'fp16');
    fp16io = path.join(tmp.dir, 'fp16-io16');
    fp32 = path.join(tmp.dir, 'fp32');
    writeTinySdPack(fp16, { seed: 9, precision: 'fp16' });
    writeTinySdPack(fp16io, { seed: 9, precision: 'fp16', ioPrecision: 'fp16' });
    writeTinySdPack(fp32, { seed: 9 });
  });

  it('load with the float types their graphs declare, and restore alike', async () => {
    const a = await restore(fp16);
    const b = await restore(fp16io);
    const c = await restore(fp32);
    expect(a.types).toEqual(['float32', 'float32', 'float32']);
    expect(b.types).toEqual(['float16', 'float16', 'float16']);
    const io = maxAbsDiff(a.image, b.image);
    const precision = maxAbsDiff(a.image, c.image);
    console.log(
      `tiny SD pack fp16: fp32 vs fp16 I/O max ${io}/255; fp16 (fp32 I/O) vs fp32 pack max ${precision}/255`,
    );
    expect(io).toBeLessThanOrEqual(2);
    expect(precision).toBeLessThanOrEqual(3);
  });

  it('`convert onnx` labels fp16 graphs with fp32 I/O fp16 (from their weights)', async () => {
    const dir = path.join(tmp.dir, 'fp16-exported');
    fs.cpSync(fp16, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'manifest.json'));
    // An fp32 embedding: only the graphs' weights say fp16.
    const emb = path.join(fp32, 'prompt_embeds.safetensors');
    const m = await convertOnnx({
      dir,
      preset: 'gendr',
      embeddings: emb,
      id: 'x',
      name: 'X',
      licence: 'MIT',
    });
    expect(m.precision).toBe('fp16');
  });
});
