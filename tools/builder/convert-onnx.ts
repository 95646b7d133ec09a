/**
 * `convert onnx`: turns a folder of ONNX graphs exported elsewhere (e.g. Hugging Face optimum's
 * Stable Diffusion export of a GenDR or OSEDiff checkpoint with its LoRA merged) plus a prompt
 * embedding into a pack: checks the graphs against a manifest made from a preset on
 * onnxruntime-node, then writes manifest.json (with sizes and sha256) and the embedding file.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  PACK_FILES,
  type PackManifest,
  type PackManifestInput,
} from '../../workers/engine/latent/manifest.ts';
import { checkPackInterface } from '../../workers/engine/latent/pack-interface.ts';
import { readPackEmbeddings } from '../../workers/engine/latent/pack-loader.ts';
import { LATENT_PRESETS, type LatentPresetName } from '../../workers/engine/latent/presets.ts';
import { parseSafetensors } from '../../workers/engine/latent/safetensors.ts';
import { createOrtNodeRuntime } from '../runtime/ort-node.ts';
import { manifestFor, writePack } from './pack-dir.ts';
import { EMBEDDINGS_FILE } from './packs.ts';

export interface ConvertOnnxOptions {
  /** Folder with vae_encoder/model.onnx, unet/model.onnx and vae_decoder/model.onnx. */
  dir: string;
  preset: LatentPresetName;
  /** .safetensors with the positive (and optionally negative) prompt embedding. */
  embeddings: string;
  positive?: string;
  negative?: string;
  guidanceScale?: number;
  id: string;
  name: string;
  licence: string;
  sourceUrl?: string;
}

export async function convertOnnx(o: ConvertOnnxOptions): Promise<PackManifest> {
  const preset = LATENT_PRESETS[o.preset];
  const files: Record<string, Uint8Array> = {};
  for (const rel of [PACK_FILES.vaeEncoder, PACK_FILES.unet, PACK_FILES.vaeDecoder]) {
    const file = path.join(o.dir, rel);
    if (!(await stat(file).catch(() => null))) throw new Error(`${file} is missing`);
    if (await stat(`${file}_data`).catch(() => null)) {
      throw new Error(
        `${file} keeps its weights in external data (${rel}_data); export in fp16 or merge it into one file`,
      );
    }
    files[rel] = new Uint8Array(await readFile(file));
  }
  const embBytes = new Uint8Array(await readFile(o.embeddings));
  const positive = o.positive ?? 'prompt_embeds';
  const emb = parseSafetensors(embBytes, o.embeddings).tensors.get(positive);
  if (!emb) throw new Error(`${o.embeddings}: no tensor '${positive}'`);
  const precision = emb.dtype === 'F16' ? 'fp16' : 'fp32';
  files[EMBEDDINGS_FILE] = embBytes;
  const manifest: Omit<PackManifestInput, 'files'> = {
    format: 'gendr-pack',
    version: 1,
    id: o.id,
    name: o.name,
    description: `One-step latent diffusion SR (${o.preset} preset).`,
    licence: o.licence,
    source: { url: o.sourceUrl, notes: `gendr-web convert onnx --preset ${o.preset}` },
    precision,
    input: { scale: preset.scale, resample: preset.resample },
    vae: {
      latentChannels: preset.latentChannels,
      downscaleFactor: 8,
      imageRange: preset.imageRange,
      scalingFactor: preset.scalingFactor,
      shiftFactor: preset.shiftFactor,
    },
    unet: {
      timestep: preset.timestep,
      alpha: preset.alpha,
      sigma: preset.sigma,
      prediction: preset.prediction,
      sizeMultiple: 8,
      embeddings: {
        file: EMBEDDINGS_FILE,
        positive,
        ...(o.negative ? { negative: o.negative, guidanceScale: o.guidanceScale ?? 1 } : {}),
        shape: [...emb.shape],
      },
    },
    tiling: { unet: { ...preset.tiling.unet } },
  };
  // Prove the graphs fit the manifest (names, dtypes, channels, embedding shape) before writing it.
  const checked = manifestFor({ manifest, files });
  const runtime = createOrtNodeRuntime({ intraOpNumThreads: 1 });
  const sessions = {
    vaeEncoder: await runtime.createSession(files[PACK_FILES.vaeEncoder]),
    unet: await runtime.createSession(files[PACK_FILES.unet]),
    vaeDecoder: await runtime.createSession(files[PACK_FILES.vaeDecoder]),
  };
  try {
    checkPackInterface(sessions, checked);
    readPackEmbeddings(checked, embBytes);
  } finally {
    await Promise.all(Object.values(sessions).map((x) => x.release?.()));
  }
  const written = await writePack(o.dir, { manifest, files });
  return written;
}
