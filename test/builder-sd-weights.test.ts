/**
 * How the SD builder reads weights and writes graphs: mismatched checkpoints fail naming the
 * tensors, sharded and single-file checkpoints give the same graph, F16 checkpoints keep their
 * bits, tensors are read lazily exactly once while streaming, and external data round-trips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnetConfig } from '../tools/builder/architectures/sd-unet/config.ts';
import { buildUnetGraph } from '../tools/builder/architectures/sd-unet/graph.ts';
import { planUnet, unetTensorSpecs } from '../tools/builder/architectures/sd-unet/plan.ts';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { planVae, vaeDecoderSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import {
  RandomWeightSource,
  writeRandomSafetensors,
  writeRandomShardedSafetensors,
} from '../tools/builder/random-weights.ts';
import { writeSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { convertSdUnet, convertSdVae } from '../tools/builder/sd-pack.ts';
import {
  openWeights,
  WeightMismatchError,
  type WeightSource,
} from '../tools/builder/weight-source.ts';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import { writeModelFile } from '../tools/onnx/model-writer.ts';
import { referenceUnet, relativeError, RefWeights } from './helpers/sd-reference.ts';
import { runUnet, session, TINY_UNET, TINY_VAE, unetFeeds } from './helpers/sd-tiny.ts';

const config = parseUnetConfig(TINY_UNET);
const specs = unetTensorSpecs(planUnet(config));
const feeds = unetFeeds(16, 8, 5, 32);
let dir: string;
let single: string;
let baseline: Float32Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-sd-weights-'));
  single = path.join(dir, 'single', 'diffusion_pytorch_model.safetensors');
  await writeRandomSafetensors(single, specs, 5);
  convertSdUnet({ path: single }, config, path.join(dir, 'single-out'), { precision: 'fp32' });
  baseline = await runUnet(await session(path.join(dir, 'single-out/unet/model.onnx')), feeds);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('checkpoint checks', () => {
  it('lists every missing, unexpected and mis-shaped tensor by name', async () => {
    const source = new RandomWeightSource(specs, 5);
    const tensors = specs
      .filter((s) => !['conv_in.bias', 'mid_block.attentions.0.proj_out.weight'].includes(s.name))
      .map((s) => ({
        name: s.name,
        dtype: 'F32' as const,
        shape: s.shape,
        data: source.f32(s.name),
      }));
    tensors.push({
      name: 'class_embedding.weight',
      dtype: 'F32',
      shape: [2],
      data: new Float32Array(2),
    });
    const i = tensors.findIndex((t) => t.name === 'conv_out.bias');
    tensors[i] = { name: 'conv_out.bias', dtype: 'F32', shape: [4], data: new Float32Array(4) };
    const bad = path.join(dir, 'bad.safetensors');
    await writeSafetensorsFile(bad, tensors);
    let error: unknown;
    try {
      convertSdUnet({ path: bad }, config, path.join(dir, 'bad-out'), { precision: 'fp32' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeightMismatchError);
    const e = error as WeightMismatchError;
    expect(e.missing).toEqual(['conv_in.bias', 'mid_block.attentions.0.proj_out.weight']);
    expect(e.unexpected).toEqual(['class_embedding.weight']);
    expect(e.misshapen).toEqual(['conv_out.bias [4], expected [16]']);
    expect(e.message).toMatch(
      /2 missing tensor\(s\): conv_in\.bias, mid_block\.attentions\.0\.proj_out\.weight/,
    );
    expect(e.message).toMatch(/1 unexpected tensor\(s\): class_embedding\.weight/);
    expect(fs.existsSync(path.join(dir, 'bad-out'))).toBe(false);
  });

  it('a wrong config is caught by the same check (the checkpoint of another architecture)', () => {
    const other = parseUnetConfig({ ...TINY_UNET, layers_per_block: 1 });
    expect(() =>
      convertSdUnet({ path: single }, other, path.join(dir, 'other'), { precision: 'fp32' }),
    ).toThrow(/unexpected tensor\(s\): down_blocks\.0\.resnets\.1\.norm1\.weight/);
  });
});

describe('checkpoint layouts', () => {
  it('a sharded checkpoint (index.json + shards) converts to the same graph as the single file', async () => {
    const shards = path.join(dir, 'sharded');
    const index = await writeRandomShardedSafetensors(shards, specs, 5, 3);
    expect(fs.readdirSync(shards).filter((f) => f.endsWith('.safetensors'))).toHaveLength(3);
    const out = path.join(dir, 'sharded-out');
    convertSdUnet({ path: shards }, config, out, { precision: 'fp32' });
    expect(await runUnet(await session(path.join(out, 'unet/model.onnx')), feeds)).toEqual(
      baseline,
    );
    // The index file itself works too, and a shard missing from it is an error.
    expect(openWeights(index).list()).toHaveLength(specs.length);
    const map = JSON.parse(fs.readFileSync(index, 'utf8')) as {
      weight_map: Record<string, string>;
    };
    map.weight_map['conv_in.weight'] =
      map.weight_map['conv_out.weight'] === map.weight_map['conv_in.weight']
        ? 'diffusion_pytorch_model-00002-of-00003.safetensors'
        : map.weight_map['conv_out.weight'];
    fs.writeFileSync(index, JSON.stringify(map));
    expect(() => openWeights(index)).toThrow(
      /weight_map names tensors its shards do not hold: conv_in\.weight/,
    );
  });

  it('F16 checkpoints: fp16 graphs keep the stored bits, fp32 graphs match the reference', async () => {
    const f16 = path.join(dir, 'f16.safetensors');
    await writeRandomSafetensors(f16, specs, 6, 'F16');
    const out32 = path.join(dir, 'f16-fp32');
    convertSdUnet({ path: f16 }, config, out32, { precision: 'fp32' });
    const ref = referenceUnet(
      TINY_UNET,
      new RefWeights(fs.readFileSync(f16)),
      { shape: feeds.sampleDims.slice(1), data: Float64Array.from(feeds.sample) },
      feeds.timestep,
      { shape: feeds.contextDims.slice(1), data: Float64Array.from(feeds.context) },
    );
    expect(
      relativeError(
        await runUnet(await session(path.join(out32, 'unet/model.onnx')), feeds),
        ref.data,
      ),
    ).toBeLessThan(1e-4);

    const out16 = path.join(dir, 'f16-fp16');
    convertSdUnet({ path: f16 }, config, out16, { precision: 'fp16' });
    const model = decodeModel(fs.readFileSync(path.join(out16, 'unet/model.onnx')));
    const init = model.graph!.initializer!.find((t) => t.name === 'conv_in.weight')!;
    const source = openWeights(f16);
    expect(Buffer.from(init.rawData!)).toEqual(Buffer.from(source.f16('conv_in.weight')!.buffer));
    source.close();
  });

  it('a decoder-only VAE checkpoint builds the decoder', async () => {
    const plan = planVae(parseVaeConfig(TINY_VAE));
    const file = path.join(dir, 'decoder-only.safetensors');
    await writeRandomSafetensors(file, vaeDecoderSpecs(plan), 9);
    const out = path.join(dir, 'decoder-only');
    convertSdVae({ path: file }, parseVaeConfig(TINY_VAE), out, {
      precision: 'fp32',
      parts: 'decoder',
    });
    expect(fs.existsSync(path.join(out, 'vae_decoder/model.onnx'))).toBe(true);
    expect(() =>
      convertSdVae({ path: file }, parseVaeConfig(TINY_VAE), out, { precision: 'fp32' }),
    ).toThrow(/missing tensor\(s\): encoder\.conv_in\.weight/);
  });
});

/** Counts reads per tensor. */
function counting(source: WeightSource): { source: WeightSource; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const bump = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
  return {
    reads,
    source: {
      label: source.label,
      list: () => source.list(),
      info: (n) => source.info(n),
      f32: (n) => (bump(n), source.f32(n)),
      f16: (n) => (bump(n), source.f16(n)),
      close: () => source.close(),
    },
  };
}

describe('streaming writer', () => {
  it('reads each tensor lazily, exactly once, while writing', () => {
    const { source, reads } = counting(openWeights(single));
    const sd = buildUnetGraph(planUnet(config), source, { precision: 'fp16', form: 'plain' });
    expect(reads.size).toBe(0);
    writeModelFile(sd.g, path.join(dir, 'stream', 'model.onnx'));
    source.close();
    expect(reads.size).toBe(specs.length);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
  });

  it('external data: the same graph split into model.onnx + model.onnx_data runs identically', async () => {
    const out = path.join(dir, 'external');
    const c = convertSdUnet({ path: single }, config, out, {
      precision: 'fp32',
      externalData: 'always',
    });
    expect(Object.keys(c.files).sort()).toEqual(['unet/model.onnx', 'unet/model.onnx_data']);
    const inlineBytes = fs.statSync(path.join(dir, 'single-out/unet/model.onnx')).size;
    expect(c.files['unet/model.onnx'].bytes).toBeLessThan(inlineBytes / 10);
    expect(c.files['unet/model.onnx_data'].bytes).toBeGreaterThan(inlineBytes * 0.9);
    expect(await runUnet(await session(path.join(out, 'unet/model.onnx')), feeds)).toEqual(
      baseline,
    );
  });
});
