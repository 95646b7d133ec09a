/**
 * `convert onnx`: turns a folder of ONNX graphs exported elsewhere (e.g. Hugging Face optimum's
 * Stable Diffusion export of a GenDR or OSEDiff checkpoint with its LoRA merged) plus a prompt
 * embedding into a pack: checks the graphs against a manifest made from a preset on
 * onnxruntime-node, then writes manifest.json (with sizes and sha256) and the embedding file.
 * Graphs are hashed as streams and never rewritten; weights in ONNX external data (past 2 GB)
 * are listed with their graph.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  PACK_FILES,
  parsePackManifest,
  type PackFileEntry,
  type PackManifest,
  type PackManifestInput,
} from '../../engine/latent/manifest.ts';
import { checkPackInterface } from '../../engine/latent/pack-interface.ts';
import { readPackEmbeddings } from '../../engine/latent/pack-loader.ts';
import { LATENT_PRESETS, type LatentPresetName } from '../../engine/latent/presets.ts';
import { parseSafetensors } from '../../engine/latent/safetensors.ts';
import { ONNX_BFLOAT16, ONNX_FLOAT16, readOnnxFileHeader } from '../onnx/model-scan.ts';
import { createOrtNodeRuntime } from '../runtime/ort-node.ts';
import { EMBEDDINGS_FILE } from './packs.ts';
import { SD_UNET_DOWNSAMPLES, unetDownsamples, unetManifestSection } from './unet-manifest.ts';

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

/** Size and sha256 of a file, read as a stream. */
async function hashFile(file: string): Promise<PackFileEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Downsamplings of the exported UNet, from the diffusers `unet/config.json` an optimum export
 * keeps beside the graph; without one, an SD UNet's three.
 */
async function exportedUnetDownsamples(dir: string): Promise<number> {
  const file = path.join(dir, path.posix.dirname(PACK_FILES.unet), 'config.json');
  const json = await readFile(file, 'utf8').catch(() => null);
  if (json === null) return SD_UNET_DOWNSAMPLES;
  const blocks = (JSON.parse(json) as { block_out_channels?: unknown }).block_out_channels;
  if (!Array.isArray(blocks) || blocks.length === 0) {
    throw new Error(`${file}: block_out_channels is not a list of channel counts`);
  }
  return unetDownsamples({ blockOutChannels: blocks as number[] });
}

export async function convertOnnx(o: ConvertOnnxOptions): Promise<PackManifest> {
  const preset = LATENT_PRESETS[o.preset];
  const files: Record<string, PackFileEntry> = {};
  let fp16Weights = false;
  for (const rel of [PACK_FILES.vaeEncoder, PACK_FILES.unet, PACK_FILES.vaeDecoder]) {
    const file = path.join(o.dir, rel);
    if (!(await stat(file).catch(() => null))) throw new Error(`${file} is missing`);
    const scan = await readOnnxFileHeader(file);
    fp16Weights ||=
      scan.initializerTypes.has(ONNX_FLOAT16) || scan.initializerTypes.has(ONNX_BFLOAT16);
    const folder = path.posix.dirname(rel);
    const data = scan.externalData.map((loc) => path.posix.normalize(`${folder}/${loc}`));
    for (const d of data) {
      if (!d.startsWith(`${folder}/`))
        throw new Error(`${file}: its external data ${d} is outside the graph's folder`);
      if (!(await stat(path.join(o.dir, d)).catch(() => null)))
        throw new Error(`${file} keeps weights in ${d}, which is missing`);
      files[d] = await hashFile(path.join(o.dir, d));
    }
    const entry = await hashFile(file);
    files[rel] = data.length ? { ...entry, externalData: data } : entry;
  }
  const embBytes = new Uint8Array(await readFile(o.embeddings));
  const positive = o.positive ?? 'prompt_embeds';
  const emb = parseSafetensors(embBytes, o.embeddings).tensors.get(positive);
  if (!emb) throw new Error(`${o.embeddings}: no tensor '${positive}'`);
  // fp16 arithmetic anywhere (fp16 weights, even behind float32 inputs) makes an fp16 pack.
  const precision = fp16Weights || emb.dtype === 'F16' ? 'fp16' : 'fp32';
  files[EMBEDDINGS_FILE] = {
    bytes: embBytes.byteLength,
    sha256: createHash('sha256').update(embBytes).digest('hex'),
  };
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
    unet: unetManifestSection(
      preset,
      {
        file: EMBEDDINGS_FILE,
        positive,
        ...(o.negative ? { negative: o.negative, guidanceScale: o.guidanceScale ?? 1 } : {}),
        shape: [...emb.shape],
      },
      await exportedUnetDownsamples(o.dir),
    ),
    tiling: { unet: { ...preset.tiling.unet } },
  };
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  const checked = parsePackManifest({ ...manifest, files: sorted }, 'generated manifest');
  // Prove the graphs fit the manifest (names, dtypes, channels, embedding shape) before writing it.
  // Loaded by path, onnxruntime finds external data beside each graph itself.
  const runtime = createOrtNodeRuntime({ intraOpNumThreads: 1 });
  const sessions = {
    vaeEncoder: await runtime.createSession(path.join(o.dir, PACK_FILES.vaeEncoder)),
    unet: await runtime.createSession(path.join(o.dir, PACK_FILES.unet)),
    vaeDecoder: await runtime.createSession(path.join(o.dir, PACK_FILES.vaeDecoder)),
  };
  try {
    checkPackInterface(sessions, checked);
    readPackEmbeddings(checked, embBytes);
  } finally {
    await Promise.all(Object.values(sessions).map((x) => x.release?.()));
  }
  const embDest = path.join(o.dir, EMBEDDINGS_FILE);
  if (path.resolve(o.embeddings) !== path.resolve(embDest)) fs.writeFileSync(embDest, embBytes);
  fs.writeFileSync(path.join(o.dir, 'manifest.json'), `${JSON.stringify(checked, null, 2)}\n`);
  return checked;
}
