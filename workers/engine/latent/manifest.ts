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

const relativePath = v.pipe(
  v.string(),
  v.regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+$/, 'a relative path inside the pack'),
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
);

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

/** Every file the pack needs, in load order. */
export function packFilePaths(m: PackManifest): string[] {
  const paths: string[] = [PACK_FILES.vaeEncoder];
  if (m.unet) paths.push(PACK_FILES.unet, m.unet.embeddings.file);
  paths.push(PACK_FILES.vaeDecoder);
  return paths;
}
