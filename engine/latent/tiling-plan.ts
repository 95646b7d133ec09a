/**
 * Tile sizes for the three stages of a pack run: explicit options, else the manifest's, else
 * chosen from the device's limits (the largest tile whose biggest activation fits), else defaults.
 */
import type { PackManifest } from './manifest.ts';
import { segmentedBytesPerPixel } from './memory-estimate.ts';
import type { TileSpec } from './tiling.ts';

export interface LatentTiling {
  /** Encoder tiles in image pixels (multiples of the VAE's downscale factor). */
  encoder: TileSpec;
  /** UNet tiles in latent pixels, blended with Gaussian weights of σ = sigma·tile. */
  unet: TileSpec & { sigma: number };
  /** Decoder tiles in latent pixels, feathered across the overlap. */
  decoder: TileSpec;
}

export type LatentTilingOption = 'none' | { [K in keyof LatentTiling]?: Partial<LatentTiling[K]> };

/** What the runtime can hold at once; the largest single buffer matters on WebGPU. */
export interface DeviceLimits {
  /** Largest tensor in bytes (WebGPU: maxStorageBufferBindingSize; WASM: a share of the 4 GiB heap). */
  maxBufferBytes: number;
}

/**
 * The working set one run of a segmented KL graph in the older 'input' form (the decoder's `up`,
 * the encoder's `down`; engine/latent/kl-vae/) may take, whatever the device: such a run returns
 * every GroupNorm's input at once (segmentedBytesPerPixel: ~340 KiB per latent pixel for GenDR's
 * VAE16 decoder), so its tile is sized by the sum of its outputs, not by the largest one. The
 * budget is the smaller of this and the device's largest buffer (maxBufferBytes, 512 MiB on WASM
 * by default, and scaled down by fault recovery). On WASM the run shares the 4 GiB heap with the
 * weights (VAE16's pack: ~0.9 GiB loaded) and the stage's whole-image buffers, and 512 MiB keeps
 * the renderer's peak near 1.4 GB (bench/kl-vae-memory.ts: VAE16, 32² latent tiles, 352 MiB
 * returned per run), well under 2 GB; the 88-pixel tile the largest-buffer rule alone gives VAE16
 * would return 2.6 GiB in one run.
 */
export const SEGMENTED_RUN_BUDGET_BYTES = 512 * 1024 ** 2;

/**
 * The working set one run of a segmented KL graph in the 'core-moments' form may take (the
 * smaller of this and the device's largest buffer). Such a run returns 2·C floats per norm, so
 * only its own activations count (segmentedBytesPerPixel: SEGMENTED_WORKING_ACTIVATIONS of the
 * largest norm input, 128 KiB per latent pixel for VAE16's decoder, 2 KiB per image pixel for its
 * encoder). Measured in Chromium on WASM (bench/kl-vae-memory.ts, VAE16, 128² latent, the mid
 * graph and the first up-graph tiles), the renderer peaks at 1890 MiB with 48² decoder tiles
 * (288 MiB by this count), 2008 MiB with 56² (392 MiB) and 3943 MiB with the 88² the
 * largest-buffer rule alone gives; 384 MiB keeps VAE16 at 48-px decoder tiles (651 runs for a
 * 128² latent, against 7515 with the 'input' form's 32 px) and 384-px encoder tiles, whose
 * activations are as large.
 */
export const SEGMENTED_MOMENTS_BUDGET_BYTES = 384 * 1024 ** 2;

/** OSEDiff's UNet tiling, used for every pack that says nothing else. */
export const DEFAULT_UNET_TILE = { tile: 96, overlap: 32, sigma: 0.1 };
export const DEFAULT_ENCODER_TILE = { tile: 512, overlap: 64 };
export const DEFAULT_DECODER_TILE = { tile: 64, overlap: 8 };
const UNTILED = 1 << 20;

/** Rough per-pixel sizes of the biggest activation when a pack does not state them (fp32). */
const DEFAULT_MEMORY = {
  /** e.g. 128 channels × 4 bytes at full resolution, ×2 for GroupNorm temporaries. */
  encoderBytesPerPixel: 1024,
  /** The decoder's full-resolution activations per latent pixel (8² pixels). */
  decoderBytesPerLatentPixel: 64 * 1024,
  /** Self-attention scores over latent tokens dominate an SD UNet: bytes per token pair (5 heads). */
  unetBytesPerTokenPair: 20,
};

function roundDown(n: number, multiple: number): number {
  return Math.max(multiple, Math.floor(n / multiple) * multiple);
}

/** The largest multiple of `multiple` up to `cap` that `fits` (at least `multiple`). */
function largestTile(fits: (tile: number) => boolean, multiple: number, cap: number): number {
  let t = roundDown(cap, multiple);
  while (t > multiple && !fits(t)) t -= multiple;
  return t;
}

/** Tiles chosen from device limits. */
export function autoTiling(m: PackManifest, limits: DeviceLimits): LatentTiling {
  const f = m.vae.downscaleFactor;
  const unetMultiple = m.unet?.sizeMultiple ?? 8;
  const half = m.precision === 'fp16' ? 0.5 : 1;
  const mem = m.memory ?? {};
  const encBytes = (mem.encoderBytesPerPixel ?? DEFAULT_MEMORY.encoderBytesPerPixel) * half;
  const decBytes =
    (mem.decoderBytesPerLatentPixel ?? DEFAULT_MEMORY.decoderBytesPerLatentPixel) * half;
  const unetPair = (mem.unetBytesPerTokenPair ?? DEFAULT_MEMORY.unetBytesPerTokenPair) * half;
  const unetLinear = (mem.unetBytesPerLatentPixel ?? 4096) * half;
  // Segmented KL graphs: what one run holds (see SEGMENTED_RUN_BUDGET_BYTES and
  // SEGMENTED_MOMENTS_BUDGET_BYTES), under the form's budget and the device's largest buffer.
  const segDec = m.vae.segmentedDecoder;
  const segEnc = m.vae.segmentedEncoder;
  const bytesPerValue = 4 * half;
  const seg = (s: typeof segDec | typeof segEnc) =>
    s
      ? {
          bytes: segmentedBytesPerPixel(s.norms, bytesPerValue, s.stats),
          budget: Math.min(
            s.stats === 'core-moments'
              ? SEGMENTED_MOMENTS_BUDGET_BYTES
              : SEGMENTED_RUN_BUDGET_BYTES,
            limits.maxBufferBytes,
          ),
        }
      : { bytes: 0, budget: Infinity };
  const sd = seg(segDec);
  const se = seg(segEnc);
  const max = limits.maxBufferBytes;
  const encTile = largestTile(
    (t) => t * t * encBytes <= max && t * t * se.bytes <= se.budget,
    8 * f,
    2048,
  );
  const decTile = largestTile(
    (t) => t * t * decBytes <= max && t * t * sd.bytes <= sd.budget,
    8,
    256,
  );
  const unetTile = largestTile(
    (t) => Math.max(t ** 4 * unetPair, t * t * unetLinear) <= max,
    unetMultiple,
    DEFAULT_UNET_TILE.tile,
  );
  return {
    encoder: { tile: encTile, overlap: Math.min(roundDown(encTile / 8, f), encTile - f) },
    unet: {
      tile: unetTile,
      overlap: Math.min(roundDown(Math.round(unetTile / 3), unetMultiple), unetTile - unetMultiple),
      sigma: DEFAULT_UNET_TILE.sigma,
    },
    decoder: { tile: decTile, overlap: Math.min(8, decTile - 1) },
  };
}

/** Final tiling for a run, every size rounded to what the graphs accept. */
export function resolveTiling(
  m: PackManifest,
  option: LatentTilingOption | undefined,
  limits?: DeviceLimits,
): LatentTiling {
  const f = m.vae.downscaleFactor;
  const unetMultiple = m.unet?.sizeMultiple ?? 8;
  if (option === 'none') {
    return {
      encoder: { tile: UNTILED, overlap: 0 },
      unet: { tile: UNTILED, overlap: 0, sigma: DEFAULT_UNET_TILE.sigma },
      decoder: { tile: UNTILED, overlap: 0 },
    };
  }
  const base: LatentTiling = limits
    ? autoTiling(m, limits)
    : {
        encoder: { ...DEFAULT_ENCODER_TILE },
        unet: { ...DEFAULT_UNET_TILE },
        decoder: { ...DEFAULT_DECODER_TILE },
      };
  const fromManifest = m.tiling ?? {};
  const pick = <K extends keyof LatentTiling>(k: K): LatentTiling[K] => ({
    ...base[k],
    ...fromManifest[k],
    ...option?.[k],
  });
  const enc = pick('encoder');
  const unet = pick('unet');
  const dec = pick('decoder');
  const encTile = roundDown(enc.tile, f);
  const unetTile = roundDown(unet.tile, unetMultiple);
  const tiling: LatentTiling = {
    encoder: { tile: encTile, overlap: Math.min(Math.ceil(enc.overlap / f) * f, encTile - f) },
    unet: {
      tile: unetTile,
      overlap: Math.min(
        Math.ceil(unet.overlap / unetMultiple) * unetMultiple,
        unetTile - unetMultiple,
      ),
      sigma: unet.sigma,
    },
    decoder: {
      tile: Math.max(1, Math.round(dec.tile)),
      overlap: Math.min(Math.round(dec.overlap), Math.max(0, dec.tile - 1)),
    },
  };
  return tiling;
}
