import { describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import {
  PackManifestError,
  packFilePaths,
  parsePackManifest,
  type PackManifest,
} from '../engine/latent/manifest.ts';
import {
  GENDR_PRESET,
  OSEDIFF_PRESET,
  scaledLinearCoefficients,
} from '../engine/latent/presets.ts';

const valid: PackManifest = manifestFor(tinyGendrPack());

function withChange(change: (m: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(valid) as unknown as Record<string, unknown>;
  change(copy);
  return copy;
}

function errorOf(json: unknown): PackManifestError {
  try {
    parsePackManifest(json);
  } catch (e) {
    expect(e).toBeInstanceOf(PackManifestError);
    return e as PackManifestError;
  }
  throw new Error('the manifest was accepted');
}

describe('pack manifest', () => {
  it('accepts a generated pack and fills defaults', () => {
    const m = parsePackManifest(JSON.parse(JSON.stringify(valid)));
    expect(m.unet?.sizeMultiple).toBe(8);
    expect(m.vae.shiftFactor).toBe(0);
    expect(packFilePaths(m)).toEqual([
      'vae_encoder/model.onnx',
      'unet/model.onnx',
      'prompt_embeds.safetensors',
      'vae_decoder/model.onnx',
    ]);
  });

  it('names the bad field', () => {
    const e = errorOf(
      withChange((m) => {
        (m.vae as Record<string, unknown>).scalingFactor = -1;
      }),
    );
    expect(e.fields).toEqual(['vae.scalingFactor']);
    expect(e.message).toMatch(/^manifest\.json: vae\.scalingFactor: /);
  });

  it('lists every bad field at once, including typos of field names', () => {
    const e = errorOf(
      withChange((m) => {
        const unet = m.unet as Record<string, unknown>;
        unet.prediction = 'noise';
        (unet.embeddings as Record<string, unknown>).shape = [77, 1024];
        (m.vae as Record<string, unknown>).scalingFator = 0.2;
      }),
    );
    expect(e.fields).toEqual(
      expect.arrayContaining(['unet.prediction', 'unet.embeddings.shape', 'vae.scalingFator']),
    );
    expect(e.message).toMatch(/vae\.scalingFator: unknown field/);
  });

  it('rejects other manifest versions with a clear message', () => {
    expect(() => parsePackManifest(withChange((m) => (m.version = 2)))).toThrow(
      /version: this app reads pack manifest version 1, the pack has 2/,
    );
  });

  it('needs every file listed, with sizes and sha256', () => {
    const missing = errorOf(
      withChange((m) => delete (m.files as Record<string, unknown>)['unet/model.onnx']),
    );
    expect(missing.fields).toEqual(['files']);
    const badHash = errorOf(
      withChange((m) => {
        (m.files as Record<string, { sha256: string }>)['vae_encoder/model.onnx'].sha256 = 'abc';
      }),
    );
    expect(badHash.fields).toEqual(['files.vae_encoder/model.onnx.sha256']);
  });

  it('refuses paths that leave the pack', () => {
    const e = errorOf(
      withChange((m) => {
        const unet = m.unet as { embeddings: { file: string } };
        unet.embeddings.file = '../secret.safetensors';
      }),
    );
    expect(e.fields).toContain('unet.embeddings.file');
  });

  it('has GenDR and OSEDiff presets with their published numbers', () => {
    expect(GENDR_PRESET).toMatchObject({
      latentChannels: 16,
      scalingFactor: 0.24447420268654824,
      timestep: 500,
      alpha: 0.5,
      sigma: 0.5,
      embeddingShape: [1, 77, 1024],
    });
    expect(OSEDIFF_PRESET.latentChannels).toBe(4);
    expect(OSEDIFF_PRESET.scalingFactor).toBe(0.18215);
    expect(OSEDIFF_PRESET.timestep).toBe(999);
    expect(OSEDIFF_PRESET.alpha).toBeCloseTo(0.06826, 5);
    expect(OSEDIFF_PRESET.sigma).toBeCloseTo(0.99767, 5);
    const { alpha, sigma } = scaledLinearCoefficients(0);
    expect(alpha ** 2).toBeCloseTo(1 - 0.00085, 12);
    expect(alpha ** 2 + sigma ** 2).toBeCloseTo(1, 12);
  });
});
