/**
 * Shared pieces of the latent-pipeline tests: building packs into temporary folders, loading them
 * on onnxruntime-node, the TAEF2 weights from the shared folder, and PSNR.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RgbaImage } from '../../engine/image.ts';
import { loadPack, type LoadedPack } from '../../engine/latent/pack-loader.ts';
import { dirPackSource, writePack, type PackContent } from '../../tools/builder/pack-dir.ts';
import { readSafetensorsFile } from '../../tools/builder/safetensors-file.ts';
import { WeightStore } from '../../tools/builder/weights.ts';
import { createOrtNodeRuntime } from '../../tools/runtime/ort-node.ts';
import { hasShared, sharedPath } from './shared.ts';

export const TAEF2_ENCODER = ['models', 'taef2_encoder.safetensors'] as const;
export const TAEF2_DECODER = ['models', 'taef2_decoder.safetensors'] as const;
export const CHELSEA = ['images', 'chelsea.png'] as const;

export const hasTaef2 = hasShared(...TAEF2_ENCODER) && hasShared(...TAEF2_DECODER);

export async function taef2Weights(): Promise<{ encoder: WeightStore; decoder: WeightStore }> {
  const enc = sharedPath(...TAEF2_ENCODER);
  const dec = sharedPath(...TAEF2_DECODER);
  return {
    encoder: new WeightStore(await readSafetensorsFile(enc), enc),
    decoder: new WeightStore(await readSafetensorsFile(dec), dec),
  };
}

/** onnxruntime-node on both cores (the machine has two; tests run one file at a time). */
export const nodeRuntime = createOrtNodeRuntime({ intraOpNumThreads: 2 });

export async function tempDir(
  prefix = 'gendr-pack-',
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a pack to a temporary folder and loads it on onnxruntime-node. */
export async function loadTempPack(
  content: PackContent,
): Promise<LoadedPack & { dir: string; dispose(): Promise<void> }> {
  const tmp = await tempDir();
  await writePack(tmp.dir, content);
  const pack = await loadPack(dirPackSource(tmp.dir), nodeRuntime);
  return {
    ...pack,
    dir: tmp.dir,
    async dispose() {
      await pack.release();
      await tmp.remove();
    },
  };
}

/** PSNR over the RGB channels of two same-sized RGBA images, in dB (Infinity when equal). */
export function psnrRgb(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size mismatch: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    se += (a.data[i] - b.data[i]) ** 2;
    n++;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}
