/**
 * Converting diffusers Stable Diffusion components (UNet2DConditionModel, AutoencoderKL) into pack
 * folders, streaming: each graph goes straight from the weight files to disk (one tensor in
 * memory at a time) and the manifest's sizes and sha256s are computed while writing.
 *
 * - convertSdUnet / convertSdVae write one component's graph(s) into a folder;
 * - writeSdPack assembles a complete pack (VAE + UNet + prompt embedding + manifest) for a latent
 *   preset (GenDR or OSEDiff step coefficients);
 * - addUnetToPack puts a UNet into an existing pack (e.g. one made by `convert sd-vae`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  PACK_FILES,
  parsePackManifest,
  type PackRuntimeBackend,
  type PackFileEntry,
  type PackManifest,
  type PackManifestInput,
} from '../../engine/latent/manifest.ts';
import { LATENT_PRESETS, type LatentPresetName } from '../../engine/latent/presets.ts';
import { writeModelFile, type WriteModelOptions } from '../onnx/model-writer.ts';
import { parseUnetConfig, type UnetConfig } from './architectures/sd-unet/config.ts';
import { buildUnetGraph } from './architectures/sd-unet/graph.ts';
import { planUnet, unetTensorSpecs } from './architectures/sd-unet/plan.ts';
import type { GraphForm, SdBuildOptions } from './architectures/sd-unet/sd-graph.ts';
import { parseVaeConfig, type VaeConfig } from './architectures/sd-vae/config.ts';
import {
  buildVaeDecoderGraph,
  buildVaeEncoderGraph,
  checkVaeWeights,
} from './architectures/sd-vae/graph.ts';
import {
  planVae,
  vaeDecoderSpecs,
  vaeEncoderSpecs,
  vaeTensorSpecs,
} from './architectures/sd-vae/plan.ts';
import { withCurrentVaeNames } from './architectures/sd-vae/legacy.ts';
import { addSegmentedVaeToPack } from './architectures/sd-vae/segmented.ts';
import { EMBEDDINGS_FILE, randomEmbeddings } from './packs.ts';
import { RandomWeightSource } from './random-weights.ts';
import { unetDownsamples, unetManifestSection, type UnetEmbeddings } from './unet-manifest.ts';
import { openWeights, SafetensorsFileSource, type WeightSource } from './weight-source.ts';
import type { Precision } from './weights.ts';

export interface ComponentOptions {
  precision: Precision;
  /**
   * Float type of the graphs' inputs and outputs (default fp32: an fp16 graph then casts at its
   * boundaries). fp16 I/O needs fp16 graphs.
   */
  ioPrecision?: Precision;
  /** Graph form: 'plain' ONNX ops, or 'fused' onnxruntime contrib ops (default 'plain'). */
  form?: GraphForm;
  /** External data for the .onnx (default 'auto': only past protobuf's 2 GB). */
  externalData?: WriteModelOptions['externalData'];
  /** Sub-folder of the pack the graphs go in (a variant's, e.g. 'fused'); default the root. */
  folder?: string;
}

/** A pack's graph forms: one, or 'both' (plain at the standard paths, fused as a variant). */
export type PackForm = GraphForm | 'both';

/** Where the fused variant of a 'both' pack lives, and the backends that load it by default. */
export const FUSED_VARIANT = {
  folder: 'fused',
  /**
   * Only onnxruntime-node's CPU backend, where the fused form is correct and faster
   * (docs/sd-builder.md). WASM keeps the plain graphs: its MultiHeadAttention kernel overflows at
   * 4096 tokens and the fused form is not faster there. WebGPU too, for now: onnxruntime-web
   * 1.30's WebGPU MultiHeadAttention returns wrong values from 32 query tokens on (measured on
   * Chromium's SwiftShader adapter, e2e/sd-pack-parity.spec.ts); pass `fusedBackends` (CLI
   * `--fused-backends`) to route WebGPU to the fused graphs once that is verified on a GPU.
   */
  backends: ['cpu'] as PackRuntimeBackend[],
};

/** The manifest's `graphs` section for a pack built in `form` (with or without a UNet). */
export function graphsSection(
  form: PackForm,
  withUnet: boolean,
  fusedBackends: readonly PackRuntimeBackend[] = FUSED_VARIANT.backends,
): PackManifestInput['graphs'] {
  if (form !== 'both') return { form, variants: [] };
  if (fusedBackends.length === 0) throw new Error('the fused variant needs at least one backend');
  const graphs = [
    PACK_FILES.vaeEncoder,
    ...(withUnet ? [PACK_FILES.unet] : []),
    PACK_FILES.vaeDecoder,
  ];
  return {
    form: 'plain',
    variants: [
      {
        form: 'fused',
        backends: [...fusedBackends],
        files: Object.fromEntries(graphs.map((g) => [g, `${FUSED_VARIANT.folder}/${g}`])),
      },
    ],
  };
}

/** The forms to build for `form`, each with its folder. */
function formsOf(form: PackForm | undefined): { form: GraphForm; folder?: string }[] {
  if (form === 'both') return [{ form: 'plain' }, { form: 'fused', folder: FUSED_VARIANT.folder }];
  return [{ form: form ?? 'plain' }];
}

/** Pack-relative path → size and sha256 of what was written. */
export type PackFiles = Record<string, PackFileEntry>;

export interface ConvertedComponent {
  files: PackFiles;
  parameters: number;
  nodes: number;
  seconds: number;
}

/** Where weights come from: a file or folder, or seeded random values. */
export type WeightsInput = { path: string } | { random: true; seed: number };

function writeGraph(
  sd: ReturnType<typeof buildUnetGraph>,
  outDir: string,
  graph: string,
  o: ComponentOptions,
): PackFiles {
  const rel = o.folder ? `${o.folder}/${graph}` : graph;
  const written = writeModelFile(sd.g, path.join(outDir, rel), {
    externalData: o.externalData,
    producer: 'gendr-web builder (diffusers)',
  });
  const files: PackFiles = {};
  const [model, ...data] = written.files.map((f) => ({
    rel: path.relative(outDir, f.path).split(path.sep).join('/'),
    entry: { bytes: f.bytes, sha256: f.sha256 },
  }));
  files[model.rel] = data.length
    ? { ...model.entry, externalData: data.map((d) => d.rel) }
    : model.entry;
  for (const d of data) files[d.rel] = d.entry;
  return files;
}

function buildOptions(o: ComponentOptions): SdBuildOptions {
  return { precision: o.precision, form: o.form ?? 'plain', ioPrecision: o.ioPrecision };
}

function openInput(
  input: WeightsInput,
  specs: () => ReturnType<typeof unetTensorSpecs>,
): WeightSource {
  return 'path' in input ? openWeights(input.path) : new RandomWeightSource(specs(), input.seed);
}

/** Writes `unet/model.onnx` (and `unet/model.onnx_data` when external) into `outDir`. */
export function convertSdUnet(
  weights: WeightsInput,
  config: UnetConfig,
  outDir: string,
  o: ComponentOptions,
): ConvertedComponent {
  const start = performance.now();
  const plan = planUnet(config);
  const specs = unetTensorSpecs(plan);
  const source = openInput(weights, () => specs);
  try {
    const sd = buildUnetGraph(plan, source, buildOptions(o));
    const files = writeGraph(sd, outDir, PACK_FILES.unet, o);
    return {
      files,
      parameters: specs.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0),
      nodes: sd.g.nodeCount,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    source.close();
  }
}

export interface ConvertedVae extends ConvertedComponent {
  latentChannels: number;
  downscaleFactor: number;
}

/**
 * Writes `vae_encoder/model.onnx` and/or `vae_decoder/model.onnx`. A checkpoint with only the
 * encoder.* or only the decoder.* half builds only that graph when `parts` says so.
 */
export function convertSdVae(
  weights: WeightsInput,
  config: VaeConfig,
  outDir: string,
  o: ComponentOptions & { parts?: 'both' | 'encoder' | 'decoder' },
): ConvertedVae {
  const start = performance.now();
  const plan = planVae(config);
  const parts = o.parts ?? 'both';
  const source = withCurrentVaeNames(openInput(weights, () => vaeTensorSpecs(plan)));
  try {
    checkVaeWeights(plan, source, parts);
    const opts = buildOptions(o);
    const files: PackFiles = {};
    let nodes = 0;
    let parameters = 0;
    const count = (specs: ReturnType<typeof vaeEncoderSpecs>) =>
      specs.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    if (parts !== 'decoder') {
      const sd = buildVaeEncoderGraph(plan, source, opts);
      Object.assign(files, writeGraph(sd, outDir, PACK_FILES.vaeEncoder, o));
      nodes += sd.g.nodeCount;
      parameters += count(vaeEncoderSpecs(plan));
    }
    if (parts !== 'encoder') {
      const sd = buildVaeDecoderGraph(plan, source, opts);
      Object.assign(files, writeGraph(sd, outDir, PACK_FILES.vaeDecoder, o));
      nodes += sd.g.nodeCount;
      parameters += count(vaeDecoderSpecs(plan));
    }
    return {
      files,
      parameters,
      nodes,
      seconds: (performance.now() - start) / 1000,
      latentChannels: config.latentChannels,
      downscaleFactor: plan.downscaleFactor,
    };
  } finally {
    source.close();
  }
}

/**
 * Adds the seam-free (segmented) forms of the VAE's encoder and decoder to the pack in `outDir`
 * (engine/latent/kl-vae/: tiled = untiled), from the same weights as its plain graphs, and returns
 * the final manifest. They are built in the plain form whatever the pack's form, since every
 * backend loads them (they hold only convolutions, GroupNorm arithmetic and one attention).
 */
export function addSegmentedVae(
  outDir: string,
  weights: WeightsInput,
  config: VaeConfig,
  o: Omit<ComponentOptions, 'form' | 'folder'>,
): PackManifest {
  const plan = planVae(config);
  const source = openInput(weights, () => vaeTensorSpecs(plan));
  try {
    addSegmentedVaeToPack(outDir, source, config, {
      precision: o.precision,
      ioPrecision: o.ioPrecision,
      form: 'plain',
      externalData: o.externalData,
    });
  } finally {
    source.close();
  }
  const file = path.join(outDir, 'manifest.json');
  return parsePackManifest(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

function hashFile(file: string): PackFileEntry {
  const bytes = fs.readFileSync(file);
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Validates and writes manifest.json for the files already in `outDir`. */
export function writeManifest(
  outDir: string,
  manifest: Omit<PackManifestInput, 'files'>,
  files: PackFiles,
): PackManifest {
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
  const m = parsePackManifest({ ...manifest, files: sorted }, path.join(outDir, 'manifest.json'));
  fs.writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  return m;
}

export interface EmbeddingInput {
  /** A .safetensors with `prompt_embeds` (or a single tensor) and optionally `negative_prompt_embeds`. */
  file?: string;
  /** Seed for a random N(0, 1) embedding when no file is given. */
  randomSeed?: number;
  guidanceScale?: number;
}

/** Copies (or generates) the prompt embedding into the pack; returns the manifest's embeddings section. */
function placeEmbedding(
  outDir: string,
  e: EmbeddingInput,
  expect: { tokens?: number; width: number },
  precision: Precision,
  shape: [number, number, number],
): { section: UnetEmbeddings; entry: PackFileEntry } {
  const dest = path.join(outDir, EMBEDDINGS_FILE);
  if (!e.file) {
    if (e.randomSeed === undefined) {
      throw new Error(
        'the UNet needs a prompt embedding: pass --embedding <file.safetensors> (or --random)',
      );
    }
    const bytes = randomEmbeddings(shape, precision, e.randomSeed, false);
    fs.writeFileSync(dest, bytes);
    return {
      section: { file: EMBEDDINGS_FILE, positive: 'prompt_embeds', shape: [...shape] },
      entry: hashFile(dest),
    };
  }
  const src = new SafetensorsFileSource(e.file);
  try {
    const names = src.list().map((t) => t.name);
    const positive = names.includes('prompt_embeds')
      ? 'prompt_embeds'
      : names.length === 1
        ? names[0]
        : undefined;
    if (!positive) {
      throw new Error(`${e.file}: no 'prompt_embeds' tensor (it has ${names.join(', ')})`);
    }
    const dims = [...src.info(positive)!.shape];
    if (dims.length !== 3 || dims[0] !== 1 || dims[2] !== expect.width) {
      throw new Error(
        `${e.file}: ${positive} is [${dims.join(', ')}]; the UNet takes [1, tokens, ${expect.width}]`,
      );
    }
    const negative =
      names.includes('negative_prompt_embeds') && e.guidanceScale !== undefined
        ? 'negative_prompt_embeds'
        : undefined;
    fs.copyFileSync(e.file, dest);
    return {
      section: {
        file: EMBEDDINGS_FILE,
        positive,
        ...(negative ? { negative, guidanceScale: e.guidanceScale } : {}),
        shape: dims as [number, number, number],
      },
      entry: hashFile(dest),
    };
  } finally {
    src.close();
  }
}

export interface SdPackOptions extends Omit<ComponentOptions, 'form' | 'folder'> {
  /** 'plain' (default), 'fused', or 'both' (plain graphs, and fused ones as a variant). */
  form?: PackForm;
  /** With form 'both': the backends that load the fused variant (default FUSED_VARIANT.backends). */
  fusedBackends?: PackRuntimeBackend[];
  preset: LatentPresetName;
  unet: { weights: WeightsInput; config: UnetConfig };
  vae: { weights: WeightsInput; config: VaeConfig };
  embedding: EmbeddingInput;
  out: string;
  id?: string;
  name?: string;
  description?: string;
  licence?: string;
  source?: PackManifestInput['source'];
  /** Called after each component is written. */
  onProgress?: (what: string, c: ConvertedComponent) => void;
}

/**
 * Checks that the UNet, the VAE and the latent preset agree on the latent space. (The embedding's
 * width follows the UNet's cross_attention_dim, so small test UNets can use a preset too.)
 */
export function checkLatentAgreement(
  preset: LatentPresetName,
  unet: UnetConfig,
  vae: VaeConfig,
): void {
  const p = LATENT_PRESETS[preset];
  const problems: string[] = [];
  if (unet.inChannels !== vae.latentChannels || unet.outChannels !== vae.latentChannels) {
    problems.push(
      `the UNet takes ${unet.inChannels} and returns ${unet.outChannels} channels but the VAE's latent has ${vae.latentChannels}`,
    );
  }
  if (p.latentChannels !== vae.latentChannels) {
    problems.push(
      `preset ${preset} is for ${p.latentChannels} latent channels, the VAE has ${vae.latentChannels}`,
    );
  }
  if (problems.length)
    throw new Error(`the components do not fit together: ${problems.join('; ')}`);
}

/** Builds a complete pack: VAE encoder and decoder, UNet, prompt embedding, manifest. */
export function writeSdPack(o: SdPackOptions): PackManifest {
  const preset = LATENT_PRESETS[o.preset];
  checkLatentAgreement(o.preset, o.unet.config, o.vae.config);
  fs.mkdirSync(o.out, { recursive: true });
  let vae: ConvertedVae | undefined;
  const graphFiles: PackFiles = {};
  for (const f of formsOf(o.form)) {
    const c = { ...o, ...f };
    const label = f.folder ? ` (${f.form})` : '';
    const v = convertSdVae(o.vae.weights, o.vae.config, o.out, c);
    o.onProgress?.(`vae${label}`, v);
    const unet = convertSdUnet(o.unet.weights, o.unet.config, o.out, c);
    o.onProgress?.(`unet${label}`, unet);
    vae ??= v;
    Object.assign(graphFiles, v.files, unet.files);
  }
  if (!vae) throw new Error('no graph form to build');
  const shape: [number, number, number] = [
    1,
    preset.embeddingShape[1],
    o.unet.config.crossAttentionDim[0],
  ];
  const emb = placeEmbedding(o.out, o.embedding, { width: shape[2] }, o.precision, shape);
  const random = 'random' in o.unet.weights || 'random' in o.vae.weights;
  writeManifest(
    o.out,
    {
      format: 'gendr-pack',
      version: 1,
      id: o.id ?? `${o.preset}${random ? '-random' : ''}-${o.precision}`,
      name:
        o.name ??
        `${o.preset === 'gendr' ? 'GenDR' : 'OSEDiff'}-architecture pack${random ? ' (random weights)' : ''} (${o.precision})`,
      description: o.description ?? '',
      licence:
        o.licence ??
        (random ? 'MIT (random weights generated by gendr-web)' : 'see the weights’ source'),
      source: o.source ?? { notes: 'built with gendr-web pack from diffusers safetensors' },
      precision: o.precision,
      input: { scale: preset.scale, resample: preset.resample },
      vae: {
        latentChannels: vae.latentChannels,
        downscaleFactor: vae.downscaleFactor,
        imageRange: [-1, 1],
        scalingFactor: o.vae.config.scalingFactor,
        shiftFactor: o.vae.config.shiftFactor,
        encoderOutput: 'latent_parameters',
      },
      unet: unetManifestSection(preset, emb.section, unetDownsamples(o.unet.config)),
      tiling: { unet: { ...preset.tiling.unet } },
      graphs: graphsSection(o.form ?? 'plain', true, o.fusedBackends),
    },
    { ...graphFiles, [EMBEDDINGS_FILE]: emb.entry },
  );
  return addSegmentedVae(o.out, o.vae.weights, o.vae.config, o);
}

/** A VAE-only pack (encode, decode: no UNet) from an AutoencoderKL. */
export function writeSdVaePack(
  weights: WeightsInput,
  config: VaeConfig,
  out: string,
  o: Omit<ComponentOptions, 'form' | 'folder'> & {
    form?: PackForm;
    fusedBackends?: PackRuntimeBackend[];
    id?: string;
    name?: string;
    scale?: number;
    licence?: string;
  },
): PackManifest {
  const converted = formsOf(o.form).map((f) => convertSdVae(weights, config, out, { ...o, ...f }));
  const vae = converted[0];
  const files: PackFiles = Object.assign({}, ...converted.map((c) => c.files));
  const random = 'random' in weights;
  writeManifest(
    out,
    {
      format: 'gendr-pack',
      version: 1,
      id: o.id ?? `sd-vae${config.latentChannels}${random ? '-random' : ''}-${o.precision}`,
      name: o.name ?? `AutoencoderKL, ${config.latentChannels} latent channels (${o.precision})`,
      description: 'diffusers AutoencoderKL: bicubic upscale, encode, decode (no UNet).',
      licence:
        o.licence ??
        (random ? 'MIT (random weights generated by gendr-web)' : 'see the weights’ source'),
      source: { notes: 'converted with gendr-web convert sd-vae' },
      precision: o.precision,
      input: { scale: o.scale ?? 4, resample: 'bicubic-pil' },
      vae: {
        latentChannels: vae.latentChannels,
        downscaleFactor: vae.downscaleFactor,
        imageRange: [-1, 1],
        scalingFactor: config.scalingFactor,
        shiftFactor: config.shiftFactor,
        encoderOutput: 'latent_parameters',
      },
      graphs: graphsSection(o.form ?? 'plain', false, o.fusedBackends),
    },
    files,
  );
  return addSegmentedVae(out, weights, config, o);
}

/**
 * Adds (or replaces) the UNet of an existing pack folder: writes the graph, the embedding, and
 * the manifest's unet section with the preset's step coefficients.
 */
export function addUnetToPack(
  dir: string,
  weights: WeightsInput,
  config: UnetConfig,
  o: Omit<ComponentOptions, 'form' | 'folder'> & {
    /** Must match the pack's forms when given; by default the UNet follows them. */
    form?: PackForm;
    preset?: LatentPresetName;
    embedding: EmbeddingInput;
  },
): PackManifest {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new Error(
      `${dir} is not a pack (no manifest.json): convert the VAE into it first (gendr-web convert sd-vae ... --out ${dir}), or build everything at once with gendr-web pack`,
    );
  }
  const m = parsePackManifest(JSON.parse(fs.readFileSync(manifestFile, 'utf8')), manifestFile);
  if (m.precision !== o.precision) {
    throw new Error(`the pack is ${m.precision}; convert the UNet with --dtype ${m.precision}`);
  }
  const presetName = o.preset ?? (m.vae.latentChannels === 16 ? 'gendr' : 'osediff');
  const preset = LATENT_PRESETS[presetName];
  if (config.inChannels !== m.vae.latentChannels || config.outChannels !== m.vae.latentChannels) {
    throw new Error(
      `the UNet takes ${config.inChannels} and returns ${config.outChannels} channels but the pack's latent has ${m.vae.latentChannels}`,
    );
  }
  // The UNet joins the pack's graph forms: the standard one, plus each variant's in its folder.
  const standardForm = m.graphs?.form ?? 'plain';
  const variants = m.graphs?.variants ?? [];
  const packForm: PackForm =
    variants.length === 1 && standardForm === 'plain' && variants[0].form === 'fused'
      ? 'both'
      : standardForm;
  if (o.form !== undefined && o.form !== packForm) {
    throw new Error(
      `the pack's graphs are ${packForm === 'both' ? 'plain, with a fused variant' : packForm}; build its UNet the same way (--form ${packForm}, or leave --form out)`,
    );
  }
  if (variants.length > 0 && packForm !== 'both') {
    throw new Error('the pack has graph variants this command does not know how to extend');
  }
  const unetFiles: PackFiles = {};
  for (const f of formsOf(packForm)) {
    Object.assign(unetFiles, convertSdUnet(weights, config, dir, { ...o, ...f }).files);
  }
  const shape: [number, number, number] = [
    1,
    preset.embeddingShape[1],
    config.crossAttentionDim[0],
  ];
  const { files: oldFiles, unet: _old, graphs: _graphs, ...rest } = m;
  const isUnetFile = (p: string) =>
    p.startsWith('unet/') || (packForm === 'both' && p.startsWith(`${FUSED_VARIANT.folder}/unet/`));
  const files: PackFiles = Object.fromEntries(
    Object.entries(oldFiles).filter(([p]) => !isUnetFile(p) && p !== EMBEDDINGS_FILE),
  );
  const emb = placeEmbedding(dir, o.embedding, { width: shape[2] }, o.precision, shape);
  return writeManifest(
    dir,
    {
      ...rest,
      unet: unetManifestSection(preset, emb.section, unetDownsamples(config)),
      tiling: { ...rest.tiling, unet: rest.tiling?.unet ?? { ...preset.tiling.unet } },
      graphs: graphsSection(packForm, true, variants[0]?.backends),
    },
    { ...files, ...unetFiles, [EMBEDDINGS_FILE]: emb.entry },
  );
}

/** Reads a diffusers config.json (UNet or VAE). */
export function readConfigFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function loadUnetConfig(file: string): UnetConfig {
  return parseUnetConfig(readConfigFile(file), file);
}

export function loadVaeConfig(file: string): VaeConfig {
  return parseVaeConfig(readConfigFile(file), file);
}
