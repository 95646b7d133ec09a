/**
 * Tiny UNet2DConditionModels with seeded random weights, written as diffusers-named safetensors,
 * converted with the streaming builder and run on onnxruntime-node, against an independent float64
 * reference forward pass (test/helpers/sd-reference.ts) over the same file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnetConfig } from '../tools/builder/architectures/sd-unet/config.ts';
import { planUnet, unetTensorSpecs } from '../tools/builder/architectures/sd-unet/plan.ts';
import { writeRandomSafetensors } from '../tools/builder/random-weights.ts';
import { convertSdUnet } from '../tools/builder/sd-pack.ts';
import { decodeModel } from '../tools/onnx/graph-builder.ts';
import { referenceUnet, relativeError, RefWeights } from './helpers/sd-reference.ts';
import {
  runUnet,
  session,
  TINY_UNET,
  TINY_UNET_CONV,
  unetFeeds,
  type UnetFeeds,
} from './helpers/sd-tiny.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-sd-unet-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Case {
  label: string;
  json: Record<string, unknown>;
  seed: number;
}

const CASES: Case[] = [
  { label: 'linear projections, 16 channels', json: TINY_UNET, seed: 11 },
  {
    label: 'conv projections, 2 transformer layers, sin-first, shift 1',
    json: TINY_UNET_CONV,
    seed: 12,
  },
];

async function prepare(
  c: Case,
): Promise<{ weights: string; feeds: UnetFeeds; expected: Float64Array }> {
  const config = parseUnetConfig(c.json);
  const weights = path.join(dir, `${c.seed}.safetensors`);
  await writeRandomSafetensors(weights, unetTensorSpecs(planUnet(config)), c.seed);
  const feeds = unetFeeds(config.inChannels, 16, 7, 32);
  const ref = referenceUnet(
    c.json,
    new RefWeights(fs.readFileSync(weights)),
    { shape: feeds.sampleDims.slice(1), data: Float64Array.from(feeds.sample) },
    feeds.timestep,
    { shape: feeds.contextDims.slice(1), data: Float64Array.from(feeds.context) },
  );
  return { weights, feeds, expected: ref.data };
}

function convert(
  c: Case,
  weights: string,
  form: 'plain' | 'fused',
  precision: 'fp32' | 'fp16',
  ioPrecision: 'fp32' | 'fp16' = 'fp32',
): string {
  const out = path.join(dir, `${c.seed}-${form}-${precision}-io${ioPrecision}`);
  convertSdUnet({ path: weights }, parseUnetConfig(c.json), out, { precision, form, ioPrecision });
  return path.join(out, 'unet', 'model.onnx');
}

describe.each(CASES)('tiny UNet ($label)', (c) => {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  const outputs: Record<string, Float32Array> = {};
  beforeAll(async () => {
    prepared = await prepare(c);
  });

  it.each(['plain', 'fused'] as const)(
    '%s fp32 graph matches the float64 reference within 1e-4',
    async (form) => {
      const s = await session(convert(c, prepared.weights, form, 'fp32'));
      const out = await runUnet(s, prepared.feeds);
      outputs[form] = out;
      const err = relativeError(out, prepared.expected);
      console.log(
        `unet (${c.label}) ${form} fp32 vs reference: max |Δ| / max |ref| = ${err.toExponential(2)}`,
      );
      expect(err).toBeLessThan(1e-4);
      expect(prepared.expected.some((v) => Math.abs(v) > 0.05)).toBe(true);
    },
  );

  it('fused and plain forms agree', () => {
    const err = relativeError(outputs.fused, outputs.plain);
    console.log(`unet (${c.label}) fused vs plain: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-5);
  });

  it('fp16 graph (run through onnxruntime CPU casts) stays within 1e-2 of the reference, with fp32 or fp16 I/O', async () => {
    const s = await session(convert(c, prepared.weights, 'plain', 'fp16'));
    // Default: fp16 weights and arithmetic behind Casts, float32 in and out.
    expect(s.inputMetadata.map((m) => (m.isTensor ? m.type : '?'))).toEqual([
      'float32',
      'int64',
      'float32',
    ]);
    expect(s.outputMetadata[0]).toMatchObject({ type: 'float32' });
    const fp32io = await runUnet(s, prepared.feeds);
    const err = relativeError(fp32io, prepared.expected);
    console.log(`unet (${c.label}) plain fp16 vs reference: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-2);
    const half = await session(convert(c, prepared.weights, 'plain', 'fp16', 'fp16'));
    expect(half.inputMetadata[0]).toMatchObject({ type: 'float16' });
    expect(half.outputMetadata[0]).toMatchObject({ type: 'float16' });
    // The same fp16 computation: the I/O Casts round as the feeds' conversion does.
    const fp16io = await runUnet(half, prepared.feeds);
    const io = relativeError(fp16io, fp32io);
    console.log(`unet (${c.label}) fp16 graph, fp16 vs fp32 I/O: ${io.toExponential(2)}`);
    expect(io).toBeLessThan(1e-3);
  });
});

describe('tiny UNet graph', () => {
  let weights: string;
  let model: string;
  beforeAll(async () => {
    const config = parseUnetConfig(TINY_UNET);
    weights = path.join(dir, 'graph.safetensors');
    await writeRandomSafetensors(weights, unetTensorSpecs(planUnet(config)), 21);
    model = convert({ label: '', json: TINY_UNET, seed: 21 }, weights, 'plain', 'fp32');
  });

  it('has the pack interface with dynamic batch and size', async () => {
    const s = await session(model);
    expect([...s.inputNames]).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect([...s.outputNames]).toEqual(['out_sample']);
    const meta = Object.fromEntries(s.inputMetadata.map((m) => [m.name, m]));
    expect(meta.timestep).toMatchObject({ type: 'int64', shape: [1] });
    expect(meta.sample).toMatchObject({ type: 'float32', shape: ['batch', 16, 'height', 'width'] });
  });

  it('wires every input: timestep and embedding change the output; batches are independent', async () => {
    const s = await session(model);
    const a = unetFeeds(16, 8, 5, 32);
    const base = await runUnet(s, a);
    expect(relativeError(await runUnet(s, { ...a, timestep: 10 }), base)).toBeGreaterThan(1e-3);
    expect(
      relativeError(await runUnet(s, { ...a, context: a.context.map((v) => -v) }), base),
    ).toBeGreaterThan(1e-3);
    const b = unetFeeds(16, 8, 5, 32, 0.5);
    const both = await runUnet(s, {
      sample: Float32Array.from([...a.sample, ...b.sample]),
      sampleDims: [2, 16, 8, 8],
      timestep: 500,
      context: Float32Array.from([...a.context, ...b.context]),
      contextDims: [2, 5, 32],
    });
    expect(relativeError(both.subarray(0, base.length), base)).toBeLessThan(1e-6);
    expect(relativeError(both.subarray(base.length), await runUnet(s, b))).toBeLessThan(1e-6);
  });

  it('uses contrib ops only in the fused form', () => {
    const domains = (file: string) =>
      new Set(
        decodeModel(fs.readFileSync(file)).graph!.node!.map(
          (n) => `${n.domain || 'ai.onnx'}:${n.opType}`,
        ),
      );
    const plain = domains(model);
    const fused = domains(
      convert({ label: '', json: TINY_UNET, seed: 21 }, weights, 'fused', 'fp32'),
    );
    expect([...plain].filter((d) => d.startsWith('com.microsoft'))).toEqual([]);
    expect(fused).toContain('com.microsoft:MultiHeadAttention');
    expect(fused).toContain('com.microsoft:SkipLayerNormalization');
    expect(fused).toContain('com.microsoft:Gelu');
    expect(fused).not.toContain('ai.onnx:Softmax');
  });
});
