/**
 * The model-pack manifest (`manifest.json`), version 1, validated with valibot so a bad pack fails
 * with messages that name the field (`vae.scalingFactor: ...`). docs/model-packs.md documents it.
 */
import * as v from 'valibot';

export const PACK_FORMAT = 'gendr-pack';
export const PACK_MANIFEST_VERSION = 1;

/** ONNX files, laid out like Hugging Face optimum's Stable Diffusion export. */
export const PACK_FILES = {
  vaeEncoder: 'vae_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
} as const;

const positive = v.pipe(v.number(), v.finite(), v.gtValue(0));
const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const finite = v.pipe(v.number(), v.finite());

/** The longest segment of a pack path: the file-name limit of OPFS and common filesystems. */
export const MAX_PACK_PATH_SEGMENT = 255;
/** The longest pack path. */
export const MAX_PACK_PATH = 1024;
/** Names at the pack's root the installer writes itself: a pack may not list them. */
export const RESERVED_PACK_PATHS: readonly string[] = ['manifest.json', 'installed.json'];

/**
 * Why `path` cannot be a pack path, or null when it can. A pack path is relative, '/'-separated,
 * and every segment is a name the origin private file system takes: not empty (no leading,
 * trailing or doubled '/'), not '.' or '..', only A-Z a-z 0-9 . _ - (so no '\\', NUL, spaces or
 * other characters that differ between filesystems), at most MAX_PACK_PATH_SEGMENT characters.
 */
export function packPathProblem(path: string): string | null {
  const what = `“${path.length > 80 ? `${path.slice(0, 80)}…` : path}” is not a valid pack path`;
  if (path.length === 0) return 'an empty string is not a valid pack path';
  if (path.length > MAX_PACK_PATH) return `${what}: longer than ${MAX_PACK_PATH} characters`;
  if (path.startsWith('/')) return `${what}: it must be relative to the pack (no leading '/')`;
  const bad = /[^A-Za-z0-9._/-]/.exec(path);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `${what}: it has the character U+${code}; use only A-Z a-z 0-9 . _ - and '/'`;
  }
  for (const segment of path.split('/')) {
    if (segment === '') return `${what}: it has an empty segment (a trailing or doubled '/')`;
    if (segment === '.' || segment === '..')
      return `${what}: it has a '${segment}' segment; write the path without it`;
    if (segment.length > MAX_PACK_PATH_SEGMENT)
      return `${what}: a segment is longer than ${MAX_PACK_PATH_SEGMENT} characters`;
  }
  if (RESERVED_PACK_PATHS.includes(path))
    return `${what}: ${path} is written by the installer, a pack cannot list it`;
  return null;
}

const relativePath = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = packPathProblem(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
);

const range = v.pipe(
  v.strictTuple([finite, finite]),
  v.check(([lo, hi]) => lo < hi, 'the range must be [low, high] with low < high'),
);

const tileSpec = v.strictObject({
  /** Tile edge (encoder: image pixels; UNet and decoder: latent pixels). */
  tile: positiveInt,
  overlap: nonNegativeInt,
});

const FileEntrySchema = v.strictObject({
  bytes: nonNegativeInt,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256 (64 characters)')),
  /**
   * For an .onnx graph whose weights sit in ONNX external data: those files (pack paths in the
   * graph's folder, e.g. `unet/model.onnx_data`), each itself listed in `files`.
   */
  externalData: v.optional(v.pipe(v.array(relativePath), v.minLength(1))),
});

/** Graph forms: standard ONNX operators only, or onnxruntime's fused contrib operators. */
export const GRAPH_FORMS = ['plain', 'fused'] as const;
export type GraphForm = (typeof GRAPH_FORMS)[number];

/** Runtime backends a pack variant can be meant for (EngineRuntime.backend). */
export const PACK_BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
export type PackRuntimeBackend = (typeof PACK_BACKENDS)[number];

const GRAPH_PATHS = [PACK_FILES.vaeEncoder, PACK_FILES.unet, PACK_FILES.vaeDecoder] as const;

const VariantSchema = v.strictObject({
  form: v.picklist(GRAPH_FORMS),
  /** Backends that load this variant instead of the graphs at the standard paths. */
  backends: v.pipe(v.array(v.picklist(PACK_BACKENDS)), v.minLength(1)),
  /** Standard graph path → this variant's graph, e.g. `unet/model.onnx` → `fused/unet/model.onnx`. */
  files: v.pipe(
    v.record(v.picklist(GRAPH_PATHS), relativePath),
    v.check((f) => Object.keys(f).length > 0, 'at least one graph'),
  ),
});

const GraphsSchema = v.strictObject({
  /** Form of the graphs at the standard paths (default 'plain'). */
  form: v.optional(v.picklist(GRAPH_FORMS), 'plain'),
  /** Other forms of some graphs, each for the backends it suits. */
  variants: v.optional(v.array(VariantSchema), []),
});

const EmbeddingsSchema = v.strictObject({
  /** A .safetensors file in the pack. */
  file: relativePath,
  /** Tensor name of the positive (prompt) embedding. */
  positive: v.pipe(v.string(), v.minLength(1)),
  /** Tensor name of the optional negative embedding (classifier-free guidance). */
  negative: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Guidance scale with a negative embedding: ε = ε₋ + g·(ε₊ − ε₋). */
  guidanceScale: v.optional(positive, 1),
  /** Embedding shape, e.g. [1, 77, 1024]. */
  shape: v.pipe(v.array(positiveInt), v.length(3, 'a [batch, tokens, width] shape')),
});

const UnetSchema = v.strictObject({
  /** The single denoising step's timestep (e.g. 500 for GenDR, 999 for OSEDiff). */
  timestep: v.pipe(v.number(), v.finite(), v.minValue(0)),
  /** z_t = α·z₀ + σ·ε. */
  alpha: positive,
  sigma: v.pipe(v.number(), v.finite(), v.minValue(0)),
  prediction: v.picklist(['epsilon', 'sample', 'v_prediction']),
  /** Latent sizes the UNet accepts are multiples of this (8 for SD UNets: three downsamplings). */
  sizeMultiple: v.optional(positiveInt, 8),
  embeddings: EmbeddingsSchema,
});

/**
 * A segmented mid graph split at its self-attention (engine/latent/kl-vae/chunked-attention.ts):
 * `pre` returns `query`, `key_t`, `value` and `residual`; `attention` maps query rows [1, n, C]
 * (with key_t and value) to `attention` [1, n, C] and runs over chunks of rows; `post` takes the
 * whole `attention` and `residual` and returns the mid graph's output.
 */
const ChunkedMidSchema = v.strictObject({
  pre: relativePath,
  attention: relativePath,
  post: relativePath,
});

/**
 * What a segmented graph returns of each GroupNorm's input (engine/latent/kl-vae/): with
 * 'core-moments' it takes `core` int64 [4] = (x0, y0, x1, y1), the tile's core in its input
 * pixels, and returns `${norm}.core_mean` and `${norm}.core_m2` [1, C] (float32, per channel over
 * the core); absent, it returns the whole input as `${norm}.input` (packs built before).
 */
const SegmentedStatsSchema = v.optional(v.picklist(['core-moments']));

/** The mid graph's files: the whole one, or the chunked form's three. */
function midGraphPaths(seg: { mid?: string; chunkedMid?: v.InferOutput<typeof ChunkedMidSchema> }) {
  const c = seg.chunkedMid;
  return c ? [c.pre, c.attention, c.post] : seg.mid ? [seg.mid] : [];
}

const VaeSchema = v.strictObject({
  latentChannels: positiveInt,
  downscaleFactor: v.pipe(
    positiveInt,
    v.check((n) => (n & (n - 1)) === 0, 'a power of two'),
  ),
  /** Pixel range the VAE takes and returns (SD: [-1, 1]; TAESD: [0, 1]). */
  imageRange: range,
  /** latent = (raw − shift)·scaling before the UNet, undone before decoding. */
  scalingFactor: positive,
  shiftFactor: v.optional(finite, 0),
  /** The encoder's output; read from the graph when absent. */
  encoderOutput: v.optional(v.picklist(['latent_sample', 'latent_parameters'])),
  /**
   * The AutoencoderKL decoder split for seam-free tiling (engine/latent/kl-vae/): `mid` takes
   * latent_sample and returns `hidden` (or `chunkedMid` does, its attention in query chunks); `up`
   * takes `hidden` plus each norm's `.mean` / `.invstd` and returns `sample` and, per `stats`,
   * each norm's core moments or its `.input`.
   */
  segmentedDecoder: v.optional(
    v.strictObject({
      /** The whole mid graph (packs built before `chunkedMid`); one of the two is present. */
      mid: v.optional(relativePath),
      chunkedMid: v.optional(ChunkedMidSchema),
      up: relativePath,
      /** Latent pixels of context an output pixel of `up` needs per side. */
      reach: positiveInt,
      stats: SegmentedStatsSchema,
      norms: v.pipe(
        v.array(
          v.strictObject({
            name: v.pipe(v.string(), v.minLength(1)),
            channels: positiveInt,
            groups: positiveInt,
            eps: positive,
            scale: positiveInt,
          }),
        ),
        v.minLength(1),
      ),
    }),
  ),
  /**
   * The AutoencoderKL encoder split the same way: `down` takes `sample` plus each norm's `.mean` /
   * `.invstd` and returns `hidden` (latent resolution) and, per `stats`, each norm's core moments
   * or its `.input`; `mid` (or
   * `chunkedMid`) takes `hidden` and returns `latent_parameters`.
   */
  segmentedEncoder: v.optional(
    v.strictObject({
      down: relativePath,
      mid: v.optional(relativePath),
      chunkedMid: v.optional(ChunkedMidSchema),
      /** Image pixels of context an output pixel of `down` needs per side. */
      reach: positiveInt,
      stats: SegmentedStatsSchema,
      norms: v.pipe(
        v.array(
          v.strictObject({
            name: v.pipe(v.string(), v.minLength(1)),
            channels: positiveInt,
            groups: positiveInt,
            eps: positive,
            /** Activation pixels per image pixel: 1, 1/2, 1/4 … */
            scale: v.pipe(
              positive,
              v.maxValue(1),
              v.check((s) => Number.isInteger(Math.log2(s)), 'a power of two (1, 0.5, 0.25 …)'),
            ),
          }),
        ),
        v.minLength(1),
      ),
    }),
  ),
});

export const PackManifestSchema = v.pipe(
  v.strictObject({
    format: v.literal(PACK_FORMAT),
    version: v.literal(PACK_MANIFEST_VERSION),
    id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'a lowercase id: a-z, 0-9, . _ -')),
    name: v.pipe(v.string(), v.minLength(1)),
    description: v.optional(v.string(), ''),
    licence: v.pipe(v.string(), v.minLength(1)),
    source: v.strictObject({
      url: v.optional(v.string()),
      citation: v.optional(v.string()),
      notes: v.optional(v.string()),
    }),
    /** Float precision of the graphs' inputs, outputs and weights. */
    precision: v.picklist(['fp32', 'fp16']),
    input: v.strictObject({
      /** Upscale factor of the LR input before encoding. */
      scale: v.pipe(positiveInt, v.maxValue(16)),
      /** 'bicubic-pil': a = −0.5 with PIL's edge handling; 'bicubic-torch': a = −0.75, replicated edges. */
      resample: v.picklist(['bicubic-pil', 'bicubic-torch']),
    }),
    vae: VaeSchema,
    unet: v.optional(UnetSchema),
    tiling: v.optional(
      v.strictObject({
        encoder: v.optional(tileSpec),
        unet: v.optional(v.strictObject({ ...tileSpec.entries, sigma: v.optional(positive) })),
        decoder: v.optional(tileSpec),
      }),
    ),
    /** Rough size of the largest activation per pixel of each stage's input, for automatic tiling. */
    memory: v.optional(
      v.strictObject({
        encoderBytesPerPixel: v.optional(positive),
        unetBytesPerLatentPixel: v.optional(positive),
        /** Self-attention scores per pair of latent tokens (all heads), the UNet's quadratic term. */
        unetBytesPerTokenPair: v.optional(positive),
        decoderBytesPerLatentPixel: v.optional(positive),
      }),
    ),
    /** Graph forms and per-backend variants (absent: one set of plain graphs). */
    graphs: v.optional(GraphsSchema),
    files: v.record(relativePath, FileEntrySchema),
  }),
  v.forward(
    v.check(
      (m) =>
        PACK_FILES.vaeEncoder in m.files &&
        PACK_FILES.vaeDecoder in m.files &&
        (!m.unet || (PACK_FILES.unet in m.files && m.unet.embeddings.file in m.files)),
      'must list vae_encoder/model.onnx, vae_decoder/model.onnx and, with a unet, unet/model.onnx and the embeddings file',
    ),
    ['files'],
  ),
  v.forward(
    v.check(
      (m) =>
        [m.vae.segmentedDecoder, m.vae.segmentedEncoder].every(
          (seg) => !seg || (seg.mid === undefined) !== (seg.chunkedMid === undefined),
        ),
      'a segmented decoder or encoder has either `mid` or `chunkedMid`, not both or neither',
    ),
    ['vae'],
  ),
  v.forward(
    v.check(
      (m) =>
        !m.vae.segmentedDecoder ||
        (midGraphPaths(m.vae.segmentedDecoder).every((p) => p in m.files) &&
          m.vae.segmentedDecoder.up in m.files),
      'must list the segmented decoder graphs (vae.segmentedDecoder.mid or .chunkedMid, and .up)',
    ),
    ['files'],
  ),
  v.forward(
    v.check(
      (m) =>
        !m.vae.segmentedEncoder ||
        (m.vae.segmentedEncoder.down in m.files &&
          midGraphPaths(m.vae.segmentedEncoder).every((p) => p in m.files)),
      'must list the segmented encoder graphs (vae.segmentedEncoder.down and .mid or .chunkedMid)',
    ),
    ['files'],
  ),
  v.forward(
    v.check(
      (m) => externalDataProblems(m.files).length === 0,
      (issue) => externalDataProblems((issue.input as { files: FileRecord }).files).join('; '),
    ),
    ['files'],
  ),
  v.forward(
    v.check(
      (m) => variantProblems(m).length === 0,
      (issue) => variantProblems(issue.input as VariantInput).join('; '),
    ),
    ['graphs'],
  ),
);

type FileRecord = Record<string, { externalData?: string[] }>;
interface VariantInput {
  files: FileRecord;
  unet?: unknown;
  graphs?: { variants: { backends: string[]; files: Partial<Record<string, string>> }[] };
}

/** The folder part of a pack path ('' at the root). */
function folderOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i + 1);
}

function externalDataProblems(files: FileRecord): string[] {
  const problems: string[] = [];
  for (const [graph, entry] of Object.entries(files)) {
    if (!entry.externalData) continue;
    if (!graph.endsWith('.onnx')) {
      problems.push(`${graph}: only .onnx graphs have externalData`);
      continue;
    }
    for (const data of entry.externalData) {
      if (!(data in files)) problems.push(`${graph}: its external data ${data} is not listed`);
      else if (data === graph || data.endsWith('.onnx'))
        problems.push(`${graph}: its external data ${data} is a graph`);
      if (!data.startsWith(folderOf(graph)))
        problems.push(`${graph}: its external data ${data} is not in the graph's folder`);
    }
    if (new Set(entry.externalData).size !== entry.externalData.length)
      problems.push(`${graph}: externalData lists a file twice`);
  }
  return problems;
}

function variantProblems(m: VariantInput): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  m.graphs?.variants.forEach((variant, i) => {
    for (const backend of variant.backends) {
      if (seen.has(backend))
        problems.push(`variants[${i}]: backend ${backend} has a variant already`);
      seen.add(backend);
    }
    for (const [standard, file] of Object.entries(variant.files)) {
      if (standard === PACK_FILES.unet && !m.unet)
        problems.push(`variants[${i}]: a unet graph but the pack has no unet section`);
      if (file && !(file in m.files))
        problems.push(`variants[${i}]: ${file} is not listed in files`);
      if (file && !file.endsWith('.onnx'))
        problems.push(`variants[${i}]: ${file} is not an .onnx graph`);
    }
  });
  return problems;
}

export type PackManifest = v.InferOutput<typeof PackManifestSchema>;
export type PackManifestInput = v.InferInput<typeof PackManifestSchema>;
export type PackFileEntry = v.InferOutput<typeof FileEntrySchema>;

export class PackManifestError extends Error {
  override name = 'PackManifestError';
  constructor(
    message: string,
    /** Dot paths of the offending fields ('' for the whole manifest). */
    readonly fields: string[],
  ) {
    super(message);
  }
}

/** Validates a parsed manifest.json; throws PackManifestError naming every bad field. */
export function parsePackManifest(json: unknown, where = 'manifest.json'): PackManifest {
  if (
    json &&
    typeof json === 'object' &&
    'version' in json &&
    json.version !== PACK_MANIFEST_VERSION
  ) {
    const version = (json as { version: unknown }).version;
    throw new PackManifestError(
      `${where}: version: this app reads pack manifest version ${PACK_MANIFEST_VERSION}, the pack has ${JSON.stringify(version)}`,
      ['version'],
    );
  }
  const result = v.safeParse(PackManifestSchema, json);
  if (result.success) return result.output;
  const fields: string[] = [];
  const lines = result.issues.map((issue) => {
    const path = v.getDotPath(issue) ?? '';
    fields.push(path);
    // strictObject reports an unknown key as "Expected never": say what it means.
    const message = issue.expected === 'never' ? 'unknown field (a typo?)' : issue.message;
    return `${path || '(manifest)'}: ${message}`;
  });
  throw new PackManifestError(`${where}: ${lines.join('; ')}`, fields);
}

/** The graph files one load of a pack uses. */
export interface PackGraphSelection {
  /** The form of the selected graphs. */
  form: GraphForm;
  vaeEncoder: string;
  unet?: string;
  vaeDecoder: string;
}

export class PackVariantError extends Error {
  override name = 'PackVariantError';
}

/**
 * The graphs to load on `backend`: with form 'auto' (the default), the variant meant for that
 * backend if the pack has one, else the graphs at the standard paths; with 'plain' or 'fused',
 * that form wherever the pack has it (a PackVariantError if it has not).
 */
export function selectPackGraphs(
  m: PackManifest,
  backend: string,
  form: GraphForm | 'auto' = 'auto',
): PackGraphSelection {
  const standardForm = m.graphs?.form ?? 'plain';
  const variants = m.graphs?.variants ?? [];
  const variant =
    form === 'auto'
      ? variants.find((x) => (x.backends as readonly string[]).includes(backend))
      : form === standardForm
        ? undefined
        : variants.find((x) => x.form === form);
  if (form !== 'auto' && form !== standardForm && !variant) {
    throw new PackVariantError(
      `pack ${m.id} has no ${form} graphs (it has ${[standardForm, ...variants.map((x) => x.form)].join(', ')})`,
    );
  }
  const files = (variant?.files ?? {}) as Partial<Record<string, string>>;
  const pick = (standard: string) => files[standard] ?? standard;
  return {
    form: variant?.form ?? standardForm,
    vaeEncoder: pick(PACK_FILES.vaeEncoder),
    unet: m.unet ? pick(PACK_FILES.unet) : undefined,
    vaeDecoder: pick(PACK_FILES.vaeDecoder),
  };
}

/** The external-data files of the graph at pack path `graph` (pack paths; none for most). */
export function externalDataPaths(m: PackManifest, graph: string): string[] {
  return m.files[graph]?.externalData ?? [];
}

/** `data`'s location relative to its graph's folder: the name the graph's tensors use. */
export function externalDataLocation(graph: string, data: string): string {
  return data.slice(folderOf(graph).length);
}

/**
 * Every file one load of the pack needs, in load order (each graph's external data just before
 * it); by default, the graphs at the standard paths.
 */
export function packFilePaths(
  m: PackManifest,
  graphs: PackGraphSelection = selectPackGraphs(m, '', m.graphs?.form ?? 'plain'),
): string[] {
  const withData = (graph: string) => [...externalDataPaths(m, graph), graph];
  const paths: string[] = withData(graphs.vaeEncoder);
  if (m.unet && graphs.unet) paths.push(...withData(graphs.unet), m.unet.embeddings.file);
  paths.push(...withData(graphs.vaeDecoder));
  const seg = m.vae.segmentedDecoder;
  if (seg) paths.push(...midGraphPaths(seg).flatMap(withData), ...withData(seg.up));
  const segEnc = m.vae.segmentedEncoder;
  if (segEnc) paths.push(...withData(segEnc.down), ...midGraphPaths(segEnc).flatMap(withData));
  return paths;
}
