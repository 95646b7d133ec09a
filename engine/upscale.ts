/**
 * Tiled super-resolution of an RGBA image with an image-to-image model (built-in ESRGANs and
 * anything shaped like them: NCHW float32 RGB in, RGB x scale out, values in `inputRange`).
 *
 * - Tiles are planned by tiling/plan.ts and blended by tiling/blend.ts; with `overlap` at least the
 *   model's tileMargin the result equals an untiled run (up to float rounding).
 * - Each finished block of the output is streamed through `onTile` in order; together they cover
 *   the output exactly once.
 * - Alpha: if any pixel is not opaque, the alpha channel goes through the same model as a gray image
 *   (the mean of the three output channels is the new alpha; flat 0/255 areas stay exactly 0/255),
 *   and the colours under fully transparent pixels are first bled outwards so they do not fringe
 *   the edges. Opaque images skip both and get alpha 255.
 * - Gray: if every visible pixel has R = G = B, the output is made exactly gray (mean of R, G, B).
 */
import { bleedTransparentColors } from './alpha.ts';
import {
  createImage,
  hasTransparency,
  pasteRect,
  type ImageSize,
  type Rect,
  type RgbaImage,
} from './image.ts';
import type { BuiltinModelManifest } from './models/builtin-manifest.ts';
import {
  isGrayscale,
  meanPlane,
  outputPlanes,
  readTile,
  snapFlatAlpha,
  type ValueRange,
} from './pixels.ts';
import {
  float32Data,
  type EngineSession,
  type EngineTensor,
  type TensorFactory,
} from './session.ts';
import { cropImage, MIN_MODEL_INPUT, padEdges } from './min-size.ts';
import { TileBlender } from './tiling/blend.ts';
import { chooseTileSize, planTiles, type TilePlan } from './tiling/plan.ts';

/** Default window size in input pixels. */
export const DEFAULT_TILE_SIZE = 256;
/** Default context per tile side when the caller does not pass the model's tileMargin. */
export const DEFAULT_OVERLAP = 16;

/** A block of the output that is final. */
export interface TileUpdate {
  /** Where the block lies, in output pixels. */
  rect: Rect;
  /** The block's pixels: rect.width * rect.height * 4 bytes of RGBA. */
  data: Uint8ClampedArray;
  /** Tiles finished so far (this one included) and in total. */
  done: number;
  total: number;
}

export interface UpscaleOptions {
  /** The model's integer scale factor. */
  scale: number;
  /** The model's value range (manifest.inputRange). */
  inputRange: [number, number];
  /**
   * Window size in input pixels, context included; a tile larger than the image becomes one tile.
   * Default: chooseTileSize up to DEFAULT_TILE_SIZE (the size that wastes least work on overlaps).
   */
  tileSize?: number;
  /** Context per tile side in input pixels; use the model's tileMargin (default DEFAULT_OVERLAP). */
  overlap?: number;
  /** Cancels between tiles: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  onTile?: (update: TileUpdate) => void;
  onProgress?: (done: number, total: number) => void;
}

/** The scale, range and exact-tiling overlap for a built-in model. */
export function upscaleOptionsFor(
  manifest: Pick<BuiltinModelManifest, 'scale' | 'inputRange' | 'tileMargin'>,
): Pick<UpscaleOptions, 'scale' | 'inputRange' | 'overlap'> {
  return { scale: manifest.scale, inputRange: manifest.inputRange, overlap: manifest.tileMargin };
}

/** The tile plan upscaleImage uses for an image of this size. */
export function planFor(
  width: number,
  height: number,
  opts: Pick<UpscaleOptions, 'tileSize' | 'overlap'>,
): TilePlan {
  const overlap = opts.overlap ?? DEFAULT_OVERLAP;
  const tileSize =
    opts.tileSize ?? chooseTileSize(width, height, { maxTileSize: DEFAULT_TILE_SIZE, overlap });
  return planTiles(width, height, { tileSize, overlap });
}

/** Upscales `image` and returns the whole output (each block also goes to `opts.onTile`). */
export async function upscaleImage(
  session: EngineSession,
  tensors: TensorFactory,
  image: RgbaImage,
  opts: UpscaleOptions,
): Promise<RgbaImage> {
  const output = createImage(image.width * opts.scale, image.height * opts.scale);
  await upscaleToTiles(session, tensors, image, {
    ...opts,
    onTile: (update) => {
      pasteRect(output, update.rect, update.data);
      opts.onTile?.(update);
    },
  });
  return output;
}

/**
 * Upscales `image` block by block: each final block goes to `opts.onTile` and is not kept, so
 * memory follows the tile, not the image (the app's worker hands the blocks to the page). Returns
 * the output size.
 */
export async function upscaleToTiles(
  session: EngineSession,
  tensors: TensorFactory,
  image: RgbaImage,
  opts: UpscaleOptions,
): Promise<ImageSize> {
  const { scale, signal } = opts;
  const range: ValueRange = opts.inputRange;
  if (!(range[1] > range[0])) throw new RangeError(`invalid inputRange [${range.join(', ')}]`);
  if (image.data.length !== image.width * image.height * 4) {
    throw new Error(
      `image data has ${image.data.length} bytes, expected ${image.width * image.height * 4}`,
    );
  }
  signal?.throwIfAborted();
  if (image.width < MIN_MODEL_INPUT || image.height < MIN_MODEL_INPUT) {
    return upscaleTiny(session, tensors, image, opts);
  }
  const plan = planFor(image.width, image.height, opts);
  const withAlpha = hasTransparency(image);
  const source = withAlpha ? bleedTransparentColors(image) : image;
  const blender = new TileBlender(plan, {
    scale,
    channels: withAlpha ? 4 : 3,
    gray: isGrayscale(image),
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const total = plan.tiles.length;

  const infer = async (rect: Rect, what: 'rgb' | 'alpha'): Promise<Float32Array[]> => {
    const input = tensors.tensor('float32', readTile(source, rect, range, what), [
      1,
      3,
      rect.height,
      rect.width,
    ]);
    let outputs: Record<string, EngineTensor>;
    try {
      outputs = await session.run({ [inputName]: input });
    } finally {
      input.dispose?.();
    }
    const out = outputs[outputName];
    try {
      const [n, c, h, w] = out.dims;
      if (n !== 1 || c !== 3 || h !== rect.height * scale || w !== rect.width * scale) {
        throw new Error(
          `model output is [${out.dims.join(', ')}], expected [1, 3, ${rect.height * scale}, ${rect.width * scale}] (wrong scale?)`,
        );
      }
      // Copy when the runtime may reuse or free the buffer on dispose (a tensor without dispose
      // owns its array, as the kernel session's do).
      const data = float32Data(out, 'model output');
      return outputPlanes(out.dispose ? data.slice() : data, h * w, range);
    } finally {
      for (const t of Object.values(outputs)) t.dispose?.();
    }
  };

  for (const tile of plan.tiles) {
    signal?.throwIfAborted();
    const planes = await infer(tile.input, 'rgb');
    if (withAlpha) {
      signal?.throwIfAborted();
      const alpha = meanPlane(await infer(tile.input, 'alpha'));
      snapFlatAlpha(alpha, image, tile.input, scale);
      planes.push(alpha);
    }
    signal?.throwIfAborted();
    const { rect, data } = blender.add(tile, planes);
    const done = tile.index + 1;
    opts.onTile?.({ rect, data, done, total });
    opts.onProgress?.(done, total);
  }
  return { width: blender.width, height: blender.height };
}

/**
 * An image with a side under MIN_MODEL_INPUT: upscaled edge-padded to that size (min-size.ts),
 * then cropped, reported as one block.
 */
async function upscaleTiny(
  session: EngineSession,
  tensors: TensorFactory,
  image: RgbaImage,
  opts: UpscaleOptions,
): Promise<RgbaImage> {
  const { scale } = opts;
  const padded = padEdges(image);
  const big = await upscaleImage(session, tensors, padded.image, {
    ...opts,
    onTile: undefined,
    onProgress: undefined,
  });
  const out = cropImage(
    big,
    padded.left * scale,
    padded.top * scale,
    image.width * scale,
    image.height * scale,
  );
  const rect = { x: 0, y: 0, width: out.width, height: out.height };
  opts.onTile?.({ rect, data: out.data.slice(), done: 1, total: 1 });
  opts.onProgress?.(1, 1);
  return out;
}
