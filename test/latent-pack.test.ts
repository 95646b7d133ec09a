/** Loading packs: file checks, the graph-interface check against the manifest, the fp16 guard. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirPackSource, writePack, type PackContent } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack, withTestUnet } from '../tools/builder/packs.ts';
import { identityUnet } from '../tools/builder/generated/unets.ts';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import {
  adapterHasShaderF16,
  choosePackBackend,
  PackBackendError,
} from '../engine/latent/fp16-guard.ts';
import { PackManifestError } from '../engine/latent/manifest.ts';
import { PackInterfaceError } from '../engine/latent/pack-interface.ts';
import { loadPack, PackFileError } from '../engine/latent/pack-loader.ts';
import type { EngineRuntime } from '../engine/session.ts';
import { loadTempPack, nodeRuntime, tempDir } from './helpers/latent-packs.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let n = 0;

/** Writes `content` (after `edit`) to a fresh folder and tries to load it. */
async function load(
  content: PackContent,
  edit?: (dir: string) => Promise<void>,
  runtime: EngineRuntime = nodeRuntime,
) {
  const dir = path.join(tmp.dir, `p${n++}`);
  await writePack(dir, content);
  await edit?.(dir);
  return loadPack(dirPackSource(dir), runtime);
}

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp?.remove());

describe('pack loading', () => {
  it('reads the interface from the sessions', async () => {
    const pack = await loadTempPack(tinyGendrPack());
    expect(pack.packInterface).toEqual({
      encoder: { type: 'float32', output: 'latent_parameters' },
      unet: { type: 'float32', embeddingType: 'float32', timestepType: 'int64', timestepDims: [1] },
      decoder: { type: 'float32' },
    });
    expect(pack.embeddings?.shape).toEqual([1, 77, 1024]);
    expect(pack.embeddings?.positive).toHaveLength(77 * 1024);
    await pack.dispose();
    const floatTimestep = await loadTempPack(tinyGendrPack({ timestepType: 'float32' }));
    expect(floatTimestep.packInterface.unet?.timestepType).toBe('float32');
    await floatTimestep.dispose();
  });

  it('rejects a manifest whose latent channels do not fit the graphs, naming each input', async () => {
    const content = tinyGendrPack();
    content.manifest = { ...content.manifest, vae: { ...content.manifest.vae, latentChannels: 4 } };
    const error = await load(content).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackInterfaceError);
    const problems = (error as PackInterfaceError).problems.join('\n');
    expect(problems).toMatch(
      /vae_encoder output latent_parameters has size 32 on axis 1 .* needs 8/,
    );
    expect(problems).toMatch(/unet input sample has size 16 on axis 1 .* needs 4/);
    expect(problems).toMatch(/vae_decoder input latent_sample has size 16 on axis 1/);
  });

  it('rejects float16 inputs and outputs in an fp32 pack', async () => {
    const content = tinyGendrPack({ precision: 'fp16' });
    content.manifest = { ...content.manifest, precision: 'fp32' };
    const error = await load(content).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackInterfaceError);
    const problems = (error as PackInterfaceError).problems.join('\n');
    expect(problems).toMatch(
      /vae_encoder input sample is float16, the manifest's precision fp32 needs float32/,
    );
    expect(problems).toMatch(/unet output out_sample is float16/);
  });

  it('accepts float32 inputs and outputs in an fp16 pack, and feeds what each graph declares', async () => {
    // Graphs with float32 I/O, labelled fp16 (as the SD builder's fp16 graphs are: Casts inside).
    const content = tinyGendrPack();
    content.manifest = { ...content.manifest, precision: 'fp16' };
    const pack = await load(content);
    expect(pack.packInterface.encoder.type).toBe('float32');
    expect(pack.packInterface.unet).toMatchObject({ type: 'float32', embeddingType: 'float32' });
    await pack.release();
  });

  it('rejects an embedding shape the UNet does not take', async () => {
    const content = tinyGendrPack();
    const unet = content.manifest.unet!;
    content.manifest = {
      ...content.manifest,
      unet: { ...unet, embeddings: { ...unet.embeddings, shape: [1, 77, 768] } },
    };
    await expect(load(content)).rejects.toThrow(
      /prompt_embeds' is \[1, 77, 1024\], the manifest says \[1, 77, 768\]/,
    );
  });

  it('rejects a UNet with inputs a pack cannot feed, or without one it needs', async () => {
    const content = tinyGendrPack();
    // An encoder graph in the UNet's place: wrong inputs and outputs.
    content.files['unet/model.onnx'] = content.files['vae_encoder/model.onnx'];
    const error = await load(content).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackInterfaceError);
    expect((error as Error).message).toMatch(/unet has no input 'timestep'/);
    expect((error as Error).message).toMatch(/unet has no output 'out_sample'/);
  });

  it('checks sizes and sha256 of every file', async () => {
    const error = await load(tinyGendrPack(), async (dir) => {
      await writeFile(path.join(dir, 'vae_decoder/model.onnx'), new Uint8Array(10));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackFileError);
    expect((error as Error).message).toMatch(
      /vae_decoder\/model\.onnx: 10 bytes, the manifest says \d+/,
    );
    await expect(
      load(tinyGendrPack(), async (dir) => {
        const m = path.join(dir, 'manifest.json');
        const { readFile } = await import('node:fs/promises');
        const json = JSON.parse(await readFile(m, 'utf8'));
        json.files['prompt_embeds.safetensors'].sha256 = '0'.repeat(64);
        await writeFile(m, JSON.stringify(json));
      }),
    ).rejects.toThrow(/prompt_embeds\.safetensors: sha256 [0-9a-f]{64} does not match/);
    await expect(
      load(tinyGendrPack(), async (dir) => {
        await writeFile(path.join(dir, 'manifest.json'), '{"format":"gendr-pack","version":1}');
      }),
    ).rejects.toBeInstanceOf(PackManifestError);
  });

  it('wires every UNet input into the identity UNet', () => {
    const unet = identityUnet({
      latentChannels: 16,
      embeddingShape: [1, 77, 1024],
      timestepType: 'int64',
      timestepDims: [1],
      precision: 'fp32',
    });
    const graph = decodeModel(unet.model).graph!;
    const consumed = new Set(graph.node!.flatMap((node) => node.input ?? []));
    for (const input of ['sample', 'timestep', 'encoder_hidden_states'])
      expect(consumed.has(input), input).toBe(true);
  });
});

describe('fp16 guard', () => {
  const refusingRuntime: EngineRuntime = {
    backend: 'webgpu',
    tensor: nodeRuntime.tensor,
    createSession: () => {
      throw new Error('no WebGPU session may be created for this pack');
    },
  };

  it('never creates WebGPU sessions for an fp16 pack without shader-f16', async () => {
    const fp16 = tinyGendrPack({ precision: 'fp16' });
    await expect(load(fp16, undefined, refusingRuntime)).rejects.toThrow(PackBackendError);
    await expect(load(fp16, undefined, refusingRuntime)).rejects.toThrow(/lacks WebGPU shader-f16/);
    // An fp32 pack goes through to session creation.
    await expect(load(tinyGendrPack(), undefined, refusingRuntime)).rejects.toThrow(
      /no WebGPU session/,
    );
  });

  it('sends fp16 packs to WASM, or refuses them, when the adapter lacks shader-f16', () => {
    const noF16 = { features: new Set(['timestamp-query']) };
    const f16 = { features: new Set(['shader-f16']) };
    expect(adapterHasShaderF16(noF16)).toBe(false);
    expect(adapterHasShaderF16(f16)).toBe(true);
    expect(adapterHasShaderF16(null)).toBe(false);
    expect(choosePackBackend('fp16', 'webgpu', { shaderF16: true })).toEqual({
      backend: 'webgpu',
      notice: null,
    });
    const fallback = choosePackBackend('fp16', 'webgpu', { shaderF16: false });
    expect(fallback.backend).toBe('wasm');
    expect(fallback.notice).toMatch(/shader-f16.*WASM/);
    expect(() =>
      choosePackBackend('fp16', 'webgpu', { shaderF16: false, allowWasmFallback: false }),
    ).toThrow(PackBackendError);
    expect(choosePackBackend('fp32', 'webgpu', { shaderF16: false }).backend).toBe('webgpu');
  });

  it('loads an fp16 pack on the CPU provider', async () => {
    const pack = await loadTempPack(tinyGendrPack({ precision: 'fp16' }));
    expect(pack.packInterface.unet?.type).toBe('float16');
    await pack.dispose();
  });
});

describe('test UNets', () => {
  it('adds a UNet to a VAE-only pack', () => {
    const content = tinyGendrPack();
    const { unet: _unet, ...vaeOnly } = content.manifest;
    const files = { ...content.files };
    delete files['unet/model.onnx'];
    delete files['prompt_embeds.safetensors'];
    const pack = withTestUnet({ manifest: vaeOnly, files }, { kind: 'identity', guidanceScale: 3 });
    expect(pack.manifest.unet?.embeddings).toMatchObject({
      negative: 'negative_prompt_embeds',
      guidanceScale: 3,
    });
    expect(Object.keys(pack.files)).toContain('unet/model.onnx');
  });
});
