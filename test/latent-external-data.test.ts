/**
 * Packs whose graphs keep their weights in ONNX external data (`model.onnx` + `model.onnx_data`, as
 * fp32 SD UNets past protobuf's 2 GB must): the manifest lists each graph's data files with their
 * sizes and hashes, loadPack reads, checks and hands them to the runtime with the graph's bytes, and
 * the pack runs exactly like the same pack with its weights inline. Tiny SD configs, forced to use
 * external data.
 */
import fs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertOnnx } from '../tools/builder/convert-onnx.ts';
import { dirPackSource, readPackDir, writePack } from '../tools/builder/pack-dir.ts';
import { withTestUnet } from '../tools/builder/packs.ts';
import { readOnnxFileHeader } from '../tools/onnx/model-scan.ts';
import type { RgbaImage } from '../engine/image.ts';
import {
  PackManifestError,
  packFilePaths,
  parsePackManifest,
  type PackManifest,
} from '../engine/latent/manifest.ts';
import { loadPack, PackFileError } from '../engine/latent/pack-loader.ts';
import { runPack } from '../engine/latent/pipeline.ts';
import type { EngineRuntime } from '../engine/session.ts';
import { nodeRuntime, tempDir } from './helpers/latent-packs.ts';
import { syntheticPhoto } from './helpers/rgba-images.ts';
import { writeTinySdPack } from './helpers/sd-tiny.ts';

const INPUT = syntheticPhoto(6, 5, 3);
const GRAPHS = ['vae_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx'];

let tmp: Awaited<ReturnType<typeof tempDir>>;
let external: string;
let inline: string;
let manifest: PackManifest;

beforeAll(async () => {
  tmp = await tempDir('gendr-external-');
  external = path.join(tmp.dir, 'external');
  inline = path.join(tmp.dir, 'inline');
  manifest = writeTinySdPack(external, { seed: 4, externalData: 'always' });
  writeTinySdPack(inline, { seed: 4, externalData: 'never' });
});
afterAll(async () => tmp?.remove());

async function restore(dir: string, runtime: EngineRuntime = nodeRuntime): Promise<RgbaImage> {
  const pack = await loadPack(dirPackSource(dir), runtime);
  try {
    return await runPack(pack.sessions, pack.manifest, INPUT, {
      tensors: runtime,
      embeddings: pack.embeddings,
      packInterface: pack.packInterface,
    });
  } finally {
    await pack.release();
  }
}

describe('packs with ONNX external data', () => {
  it('the manifest lists each graph’s data file, with its size and sha256', async () => {
    for (const graph of GRAPHS) {
      const data = graph.replace(/\.onnx$/, '.onnx_data');
      expect(manifest.files[graph].externalData).toEqual([data]);
      expect(manifest.files[data].bytes).toBe(fs.statSync(path.join(external, data)).size);
      // The graph itself is small: its weights are in the data file.
      expect(manifest.files[graph].bytes).toBeLessThan(manifest.files[data].bytes / 4);
      expect((await readOnnxFileHeader(path.join(external, graph))).externalData).toEqual([
        'model.onnx_data',
      ]);
    }
    expect(packFilePaths(manifest)).toEqual([
      'vae_encoder/model.onnx_data',
      'vae_encoder/model.onnx',
      'unet/model.onnx_data',
      'unet/model.onnx',
      'prompt_embeds.safetensors',
      'vae_decoder/model.onnx_data',
      'vae_decoder/model.onnx',
      // The KL VAE's segmented forms (seam-free tiling), with external data like the rest.
      // The mid graphs split at their attention; its chunk graph has no weights (no data file).
      'vae_decoder_segmented/mid_pre.onnx_data',
      'vae_decoder_segmented/mid_pre.onnx',
      'vae_decoder_segmented/mid_attention.onnx',
      'vae_decoder_segmented/mid_post.onnx_data',
      'vae_decoder_segmented/mid_post.onnx',
      'vae_decoder_segmented/up.onnx_data',
      'vae_decoder_segmented/up.onnx',
      'vae_encoder_segmented/down.onnx_data',
      'vae_encoder_segmented/down.onnx',
      'vae_encoder_segmented/mid_pre.onnx_data',
      'vae_encoder_segmented/mid_pre.onnx',
      'vae_encoder_segmented/mid_attention.onnx',
      'vae_encoder_segmented/mid_post.onnx_data',
      'vae_encoder_segmented/mid_post.onnx',
    ]);
    expect(manifest.files['vae_decoder_segmented/mid_attention.onnx'].externalData).toBeUndefined();
  });

  it('loads from bytes on onnxruntime-node and restores exactly like the inline pack', async () => {
    let reads = 0;
    const source = dirPackSource(external);
    const counting = { label: source.label, read: (p: string) => (reads++, source.read(p)) };
    const created: unknown[] = [];
    const runtime: EngineRuntime = {
      ...nodeRuntime,
      createSession: (model, options) => (
        created.push(options?.externalData?.map((f) => f.path)),
        nodeRuntime.createSession(model, options)
      ),
    };
    const pack = await loadPack(counting, runtime);
    await pack.release();
    expect(reads).toBe(22); // manifest + 21 files
    // Every graph is created with its own data file: the three graphs and the segments (the
    // weightless attention chunk graphs with none).
    expect(created.map((c) => JSON.stringify(c)).sort()).toEqual(
      [
        ...Array.from({ length: 3 }, () => ['model.onnx_data']),
        ['mid_pre.onnx_data'],
        undefined,
        ['mid_post.onnx_data'],
        ['up.onnx_data'],
        ['down.onnx_data'],
        ['mid_pre.onnx_data'],
        undefined,
        ['mid_post.onnx_data'],
      ]
        .map((c) => JSON.stringify(c))
        .sort(),
    );
    const a = await restore(external);
    const b = await restore(inline);
    expect([a.width, a.height]).toEqual([24, 20]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('refuses a data file whose hash does not match', async () => {
    const dir = path.join(tmp.dir, 'tampered');
    fs.cpSync(external, dir, { recursive: true });
    const file = path.join(dir, 'unet/model.onnx_data');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(file, bytes);
    await expect(loadPack(dirPackSource(dir), nodeRuntime)).rejects.toThrow(PackFileError);
    await expect(loadPack(dirPackSource(dir), nodeRuntime)).rejects.toThrow(
      /unet\/model\.onnx_data: sha256 [0-9a-f]+ does not match/,
    );
  });

  it('a graph whose data file is not listed does not load', async () => {
    const dir = path.join(tmp.dir, 'unlisted');
    fs.cpSync(external, dir, { recursive: true });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    delete json.files['unet/model.onnx'].externalData;
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(json));
    await expect(loadPack(dirPackSource(dir), nodeRuntime)).rejects.toThrow(/external data/i);
  });

  it('the manifest check names bad externalData entries', () => {
    const bad = structuredClone(manifest) as unknown as {
      files: Record<string, { externalData?: string[] }>;
    };
    bad.files['unet/model.onnx'].externalData = ['vae_decoder/model.onnx_data', 'unet/other.bin'];
    bad.files['prompt_embeds.safetensors'].externalData = ['unet/model.onnx_data'];
    let error: unknown;
    try {
      parsePackManifest(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PackManifestError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /unet\/model\.onnx: its external data vae_decoder\/model\.onnx_data is not in the graph's folder/,
    );
    expect(message).toMatch(/unet\/model\.onnx: its external data unet\/other\.bin is not listed/);
    expect(message).toMatch(/prompt_embeds\.safetensors: only \.onnx graphs have externalData/);
    expect((error as PackManifestError).fields).toContain('files');
  });

  it('the node adapter takes external data as bytes or as a file path anywhere', async () => {
    const graph = path.join(external, 'unet/model.onnx');
    const moved = path.join(tmp.dir, 'elsewhere.bin');
    fs.copyFileSync(path.join(external, 'unet/model.onnx_data'), moved);
    const model = new Uint8Array(fs.readFileSync(graph));
    const byPath = await nodeRuntime.createSession(model, {
      externalData: [{ path: 'model.onnx_data', data: moved }],
    });
    expect(byPath.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    await byPath.release?.();
    // A model loaded by path finds its data beside it (left to onnxruntime, not read here).
    const beside = await nodeRuntime.createSession(graph, {
      externalData: [{ path: 'model.onnx_data', data: graph.replace(/\.onnx$/, '.onnx_data') }],
    });
    await beside.release?.();
    await expect(nodeRuntime.createSession(model)).rejects.toThrow(/external data/i);
  });

  it('round-trips through readPackDir / writePack and `convert test-unet`', async () => {
    const content = await readPackDir(external);
    expect(content.externalData?.['vae_decoder/model.onnx']).toEqual([
      'vae_decoder/model.onnx_data',
    ]);
    const dir = path.join(tmp.dir, 'test-unet');
    const m = await writePack(dir, withTestUnet(content, { kind: 'identity' }));
    expect(m.files['unet/model.onnx'].externalData).toBeUndefined();
    expect(m.files['unet/model.onnx_data']).toBeUndefined();
    expect(m.files['vae_encoder/model.onnx'].externalData).toEqual(['vae_encoder/model.onnx_data']);
    const out = await restore(dir);
    expect(out.width).toBe(24);
  });

  it('`convert onnx` lists the external data of exported graphs', async () => {
    const dir = path.join(tmp.dir, 'exported');
    fs.cpSync(external, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'manifest.json'));
    const emb = path.join(tmp.dir, 'embeds.safetensors');
    fs.renameSync(path.join(dir, 'prompt_embeds.safetensors'), emb);
    // convert onnx fixes the latent model's size multiple at 8 (SD); the tiny UNet's is 2.
    const m = await convertOnnx({
      dir,
      preset: 'gendr',
      embeddings: emb,
      id: 'exported',
      name: 'Exported',
      licence: 'MIT',
    });
    expect(m.precision).toBe('fp32');
    for (const graph of GRAPHS) {
      expect(m.files[graph].externalData).toEqual([graph.replace(/\.onnx$/, '.onnx_data')]);
    }
    expect(packFilePaths(m)).toHaveLength(7);
    const loaded = await loadPack(dirPackSource(dir), nodeRuntime);
    await loaded.release();
    await writeFile(path.join(dir, 'unet/model.onnx_data'), new Uint8Array(8));
    await expect(loadPack(dirPackSource(dir), nodeRuntime)).rejects.toThrow(
      /unet\/model\.onnx_data: 8 bytes, the manifest says/,
    );
  });
});
