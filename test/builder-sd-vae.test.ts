/**
 * A tiny AutoencoderKL (16 latent channels) with seeded random weights as diffusers safetensors,
 * converted to the pack's vae_encoder / vae_decoder graphs and checked against the independent
 * float64 reference (test/helpers/sd-reference.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { writeRandomSafetensors } from '../tools/builder/random-weights.ts';
import { writeSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { parseSafetensors } from '../engine/latent/safetensors.ts';
import { convertSdVae } from '../tools/builder/sd-pack.ts';
import {
  referenceVaeDecode,
  referenceVaeEncode,
  relativeError,
  RefWeights,
} from './helpers/sd-reference.ts';
import { runSingle, session, signal, TINY_VAE } from './helpers/sd-tiny.ts';

let dir: string;
let weights: string;
const image = signal(3 * 32 * 32, 0.05);
const latent = signal(16 * 8 * 12, 0.03, 2);
let moments: Float64Array;
let decoded: Float64Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-sd-vae-'));
  weights = path.join(dir, 'vae.safetensors');
  await writeRandomSafetensors(weights, vaeTensorSpecs(planVae(parseVaeConfig(TINY_VAE))), 31);
  const w = new RefWeights(fs.readFileSync(weights));
  moments = referenceVaeEncode(TINY_VAE, w, {
    shape: [3, 32, 32],
    data: Float64Array.from(image),
  }).data;
  decoded = referenceVaeDecode(TINY_VAE, w, {
    shape: [16, 8, 12],
    data: Float64Array.from(latent),
  }).data;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function convert(
  form: 'plain' | 'fused',
  precision: 'fp32' | 'fp16',
  parts: 'both' | 'encoder' | 'decoder' = 'both',
  ioPrecision: 'fp32' | 'fp16' = 'fp32',
): string {
  const out = path.join(dir, `${form}-${precision}-${parts}-io${ioPrecision}`);
  convertSdVae({ path: weights }, parseVaeConfig(TINY_VAE), out, {
    precision,
    form,
    parts,
    ioPrecision,
  });
  return out;
}

describe('tiny AutoencoderKL vs the float64 reference', () => {
  const outputs: Record<string, { enc: Float32Array; dec: Float32Array }> = {};

  it.each(['plain', 'fused'] as const)(
    '%s fp32 encoder and decoder match within 1e-4',
    async (form) => {
      const out = convert(form, 'fp32');
      const enc = await runSingle(
        await session(path.join(out, 'vae_encoder/model.onnx')),
        'sample',
        image,
        [1, 3, 32, 32],
      );
      const dec = await runSingle(
        await session(path.join(out, 'vae_decoder/model.onnx')),
        'latent_sample',
        latent,
        [1, 16, 8, 12],
      );
      expect(enc.dims).toEqual([1, 32, 16, 16]);
      expect(dec.dims).toEqual([1, 3, 16, 24]);
      outputs[form] = { enc: enc.data, dec: dec.data };
      const e = relativeError(enc.data, moments);
      const d = relativeError(dec.data, decoded);
      console.log(
        `vae ${form} fp32 vs reference: encoder ${e.toExponential(2)}, decoder ${d.toExponential(2)}`,
      );
      expect(e).toBeLessThan(1e-4);
      expect(d).toBeLessThan(1e-4);
    },
  );

  it('fused and plain forms agree', () => {
    const e = relativeError(outputs.fused.enc, outputs.plain.enc);
    const d = relativeError(outputs.fused.dec, outputs.plain.dec);
    console.log(`vae fused vs plain: encoder ${e.toExponential(2)}, decoder ${d.toExponential(2)}`);
    expect(Math.max(e, d)).toBeLessThan(1e-5);
  });

  it.each(['fp32', 'fp16'] as const)(
    'fp16 graphs with %s inputs and outputs stay within 1e-2',
    async (io) => {
      const out = convert('plain', 'fp16', 'both', io);
      const encoder = await session(path.join(out, 'vae_encoder/model.onnx'));
      const decoder = await session(path.join(out, 'vae_decoder/model.onnx'));
      const type = io === 'fp16' ? 'float16' : 'float32';
      for (const s of [encoder, decoder]) {
        expect(s.inputMetadata[0]).toMatchObject({ type });
        expect(s.outputMetadata[0]).toMatchObject({ type });
      }
      const enc = await runSingle(encoder, 'sample', image, [1, 3, 32, 32]);
      const dec = await runSingle(decoder, 'latent_sample', latent, [1, 16, 8, 12]);
      const e = relativeError(enc.data, moments);
      const d = relativeError(dec.data, decoded);
      console.log(
        `vae plain fp16 (${io} I/O) vs reference: encoder ${e.toExponential(2)}, decoder ${d.toExponential(2)}`,
      );
      expect(Math.max(e, d)).toBeLessThan(1e-2);
    },
  );

  it('reads legacy attention names (query, key, value, proj_attn; 1×1-conv shapes) like diffusers', async () => {
    const legacy = path.join(dir, 'legacy.safetensors');
    const file = parseSafetensors(new Uint8Array(fs.readFileSync(weights)));
    const renamed = [...file.tensors.values()].map((t) => {
      const name = t.name
        .replace(/attentions\.0\.to_q\./, 'attentions.0.query.')
        .replace(/attentions\.0\.to_k\./, 'attentions.0.key.')
        .replace(/attentions\.0\.to_v\./, 'attentions.0.value.')
        .replace(/attentions\.0\.to_out\.0\./, 'attentions.0.proj_attn.');
      const conv = name.endsWith('.proj_attn.weight') && name.startsWith('decoder.');
      return {
        name,
        dtype: t.dtype,
        shape: conv ? [...t.shape, 1, 1] : [...t.shape],
        data: t.bytes,
      };
    });
    expect(renamed.filter((t) => t.name.includes('.query.'))).toHaveLength(4);
    await writeSafetensorsFile(legacy, renamed);
    const out = path.join(dir, 'legacy');
    convertSdVae({ path: legacy }, parseVaeConfig(TINY_VAE), out, { precision: 'fp32' });
    const dec = await runSingle(
      await session(path.join(out, 'vae_decoder/model.onnx')),
      'latent_sample',
      latent,
      [1, 16, 8, 12],
    );
    expect(relativeError(dec.data, decoded)).toBeLessThan(1e-4);
  });

  it('builds only the half asked for', () => {
    const out = convert('plain', 'fp32', 'decoder');
    expect(fs.existsSync(path.join(out, 'vae_decoder/model.onnx'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'vae_encoder/model.onnx'))).toBe(false);
  });
});
