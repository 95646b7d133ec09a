/**
 * How much memory a pack needs on a backend before anything is loaded: the weights as the runtime
 * will hold them plus the largest activation of the tiles the run will use, and, over WASM's 4 GiB
 * heap, a plain-words refusal naming what would run it.
 */
import { attentionRows } from './kl-vae/chunked-attention.ts';
import { packFilePaths, selectPackGraphs, type PackManifest } from './manifest.ts';
import type { LatentTiling } from './tiling-plan.ts';

/** WebAssembly's 32-bit heap. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** Bytes per pixel of each stage's largest activation when the pack states none (fp32; as tiling-plan.ts). */
const DEFAULTS = {
  encoderBytesPerPixel: 1024,
  decoderBytesPerLatentPixel: 64 * 1024,
  unetBytesPerTokenPair: 20,
  unetBytesPerLatentPixel: 4096,
};

export interface MemoryEstimate {
  /** Weights as the runtime holds them (fp16 weights count twice on WASM/CPU, which upcast). */
  weightsBytes: number;
  /** The largest single activation of the chosen tiles, over the three stages. */
  activationBytes: number;
  totalBytes: number;
  /** Plain-words refusal when the pack cannot run on this backend; absent when it fits. */
  refusal?: string;
}

function gb(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}

type SegNorm = { channels: number; scale: number };

/**
 * Activations of the largest norm input's size that one run of a segmented graph in the
 * 'core-moments' form holds at once (a resnet's input kept for its residual, the normalized
 * value, the conv output and the norm's own temporaries).
 */
export const SEGMENTED_WORKING_ACTIVATIONS = 4;

/**
 * Bytes one run of a segmented KL graph (the decoder's `up`, the encoder's `down`) holds per
 * pixel of its input. In the older 'input' form every norm's input is a graph output, so all of
 * them are live at once (engine/latent/kl-vae/), plus the largest of them again for the graph's
 * own temporaries; in the 'core-moments' form the outputs are 2·C floats per norm and the run
 * holds only its working set (SEGMENTED_WORKING_ACTIVATIONS of the largest norm input).
 */
export function segmentedBytesPerPixel(
  norms: readonly SegNorm[],
  bytesPerValue = 4,
  stats?: 'core-moments',
): number {
  const values = norms.map((n) => n.channels * n.scale * n.scale);
  const largest = Math.max(0, ...values);
  if (stats === 'core-moments') return SEGMENTED_WORKING_ACTIVATIONS * largest * bytesPerValue;
  return (values.reduce((a, b) => a + b, 0) + largest) * bytesPerValue;
}

/**
 * The largest activation of a segmented mid graph run untiled on a latent of `n` pixels with
 * `channels` channels: the mid block's self-attention scores and their softmax (n² each, or
 * rows × n for each chunk of query rows in the chunked form, kl-vae/chunked-attention.ts) and a
 * few hidden-sized tensors (in the chunked form also q, kᵀ, v and the residual held between runs).
 */
function untiledMidBytes(n: number, channels: number, chunked: boolean): number {
  if (!chunked) return 2 * n * n * 4 + 4 * n * channels * 4;
  return 2 * attentionRows(n) * n * 4 + 8 * n * channels * 4;
}

/**
 * Pure: depends on the manifest's file sizes, the backend and the tiles, and, for packs with a
 * segmented KL VAE, on the image: its mid graphs run untiled on the whole latent (pass the VAE's
 * input size, i.e. the output size, to count them; without it only the tiled runs count).
 */
export function estimatePackMemory(
  m: PackManifest,
  backend: 'webgpu' | 'wasm' | 'cpu',
  tiling: LatentTiling,
  image?: { width: number; height: number },
): MemoryEstimate {
  const paths = packFilePaths(m, selectPackGraphs(m, backend));
  // Graphs, their external data and the embeddings: everything one load reads is held.
  const fileBytes = paths.reduce((sum, p) => sum + (m.files[p]?.bytes ?? 0), 0);
  const upcast = m.precision === 'fp16' && backend !== 'webgpu' ? 2 : 1;
  const weightsBytes = fileBytes * upcast;

  const half = m.precision === 'fp16' && backend === 'webgpu' ? 0.5 : 1;
  const mem = { ...DEFAULTS, ...m.memory };
  const enc = tiling.encoder.tile ** 2 * mem.encoderBytesPerPixel;
  const dec = tiling.decoder.tile ** 2 * mem.decoderBytesPerLatentPixel;
  const t = tiling.unet.tile;
  const unet = m.unet
    ? Math.max(t ** 4 * mem.unetBytesPerTokenPair, t * t * mem.unetBytesPerLatentPixel)
    : 0;
  // Segmented KL graphs: their tiled runs (the older form returns every norm's input), and
  // their mid graphs run on the whole latent (the attention is quadratic in it).
  const f = m.vae.downscaleFactor;
  const segDec = m.vae.segmentedDecoder;
  const segEnc = m.vae.segmentedEncoder;
  let seg = 0;
  if (segDec) {
    const t = Math.max(tiling.decoder.tile, 2 * segDec.reach + 1);
    seg = Math.max(seg, t * t * segmentedBytesPerPixel(segDec.norms, 4, segDec.stats));
  }
  if (segEnc) {
    const overlap = Math.ceil((2 * segEnc.reach + f) / f) * f;
    const t = Math.max(tiling.encoder.tile, overlap + f);
    seg = Math.max(seg, t * t * segmentedBytesPerPixel(segEnc.norms, 4, segEnc.stats));
  }
  if (image && (segDec || segEnc)) {
    const n = Math.ceil(image.width / f) * Math.ceil(image.height / f);
    const channels = Math.max(
      segDec?.norms[0]?.channels ?? 0,
      segEnc?.norms[segEnc.norms.length - 1]?.channels ?? 0,
    );
    const chunked = [segDec, segEnc].every((x) => !x || x.chunkedMid);
    seg = Math.max(seg, untiledMidBytes(n, channels, chunked));
  }
  const activationBytes = Math.max(enc, dec, unet, seg) * half;
  const totalBytes = weightsBytes + activationBytes;
  const refusal =
    backend === 'wasm' && totalBytes > WASM_HEAP_BYTES
      ? `${m.name} needs about ${gb(totalBytes)} GB of memory on the CPU engine (WebAssembly), more than the 4 GB it can use: ` +
        `${gb(weightsBytes)} GB of weights as it holds them${upcast > 1 ? ' (fp16 widened to fp32)' : ''} and ${gb(activationBytes)} GB for the largest tile's working memory. ` +
        `It runs with WebGPU on a graphics card whose WebGPU has shader-f16 (recent Chrome or Edge on most desktop GPUs).`
      : undefined;
  return { weightsBytes, activationBytes, totalBytes, refusal };
}
