/**
 * Opens whatever the user dropped: identifies it from its bytes, refuses (or downscales, if the
 * user chose so) an image too large for this device before decoding it, decodes it upright
 * (EXIF orientation applied), rasterises SVG, and reads the metadata to carry over.
 */
import { identifyFile, ImageDecodeError, kindLabel, type ImageKind } from './file-kind.ts';
import { deviceBudget, probeGpuLimits } from './memory-budget.ts';
import { NO_METADATA, readMetadata, type ImageMetadata } from './metadata/image-metadata.ts';
import { fittingSize, sizeProblem, type Size } from './size-check.ts';
import { rasterizeSvg, svgIntrinsicSize } from './svg.ts';

/**
 * sRGB pixel values, like the command line's decoder (sharp's toColourspace('srgb')): a source with
 * an ICC profile (Display P3, Adobe RGB, ...) is converted to sRGB by the browser's colour engine;
 * no premultiplication. The result is saved as untagged sRGB (encode-result.ts).
 */
export const BITMAP_OPTIONS: ImageBitmapOptions = {
  colorSpaceConversion: 'default',
  premultiplyAlpha: 'none',
};

export interface DecodedImage {
  name: string;
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** Something worth telling the user (first frame of an animation, downscaled, turned upright). */
  note: string | null;
  kind: ImageKind;
  metadata: ImageMetadata;
}

export interface DecodeOptions {
  /** The scale the image will be restored at (for the size check). Default 4. */
  scale?: number;
  /** Decode at this size instead (the user's choice after a size refusal). */
  downscaleTo?: Size;
}

/** Too large for this device at this scale: the message gives the numbers. */
export class ImageTooLargeError extends ImageDecodeError {
  constructor(
    message: string,
    readonly size: Size,
    readonly downscaleTo: Size | null,
  ) {
    super(message);
  }
}

/** Frames in an animated image, where the browser can tell (WebCodecs ImageDecoder). */
async function frameCount(file: Blob, type: string): Promise<number | null> {
  const Decoder = (
    globalThis as typeof globalThis & {
      ImageDecoder?: new (init: { data: ReadableStream<Uint8Array>; type: string }) => {
        tracks: { ready: Promise<void>; selectedTrack: { frameCount: number } | null };
        close(): void;
      };
    }
  ).ImageDecoder;
  if (!Decoder) return null;
  try {
    const decoder = new Decoder({ data: file.stream(), type });
    try {
      await decoder.tracks.ready;
      return decoder.tracks.selectedTrack?.frameCount ?? null;
    } finally {
      decoder.close();
    }
  } catch {
    return null;
  }
}

const MIME: Partial<Record<ImageKind, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heif: 'image/heif',
  bmp: 'image/bmp',
};

function oriented(size: Size, orientation: number | undefined | null): Size {
  return orientation && orientation >= 5 ? { width: size.height, height: size.width } : size;
}

export async function decodeInput(
  file: Blob,
  name: string,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  const scale = options.scale ?? 4;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const info = identifyFile(bytes, name);
  const notes: string[] = [];
  // The GPU's limits are read once (a few ms); they go into the numbers a refusal gives.
  await probeGpuLimits();
  const budget = deviceBudget();

  const check = (size: Size) => {
    if (options.downscaleTo) return;
    const problem = sizeProblem(size, scale, budget, `“${name}”`);
    if (problem) throw new ImageTooLargeError(problem.message, size, problem.downscaleTo);
  };

  if (info.kind === 'svg') {
    const text = new TextDecoder().decode(bytes);
    const size = svgIntrinsicSize(text);
    if (typeof size === 'string') {
      throw new ImageDecodeError(`“${name}” is an SVG that cannot be rasterised: ${size}.`);
    }
    check(size);
    const target = options.downscaleTo ?? size;
    const bitmap = await rasterizeSvg(file, name, target);
    notes.push(`SVG rasterised at ${target.width} × ${target.height} px.`);
    return {
      name,
      bitmap,
      width: bitmap.width,
      height: bitmap.height,
      note: notes.join(' '),
      kind: 'svg',
      metadata: NO_METADATA,
    };
  }

  const metadata = await readMetadata(info.kind, bytes);
  if (info.declared) check(oriented(info.declared, metadata.orientation));

  let target = options.downscaleTo;
  if (target && info.declared) {
    // Never "downscale" to something larger than the image.
    const upright = oriented(info.declared, metadata.orientation);
    if (target.width >= upright.width && target.height >= upright.height) target = undefined;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([file], { type: MIME[info.kind] ?? file.type }), {
      ...BITMAP_OPTIONS,
      imageOrientation: 'from-image',
      ...(target
        ? { resizeWidth: target.width, resizeHeight: target.height, resizeQuality: 'high' }
        : {}),
    });
  } catch {
    throw new ImageDecodeError(
      `“${name}” could not be opened as an image: this browser could not decode the ${info.label} data` +
        ` (${bytes.length} bytes). It is damaged, or the browser cannot read this kind of ${info.label}.`,
    );
  }
  if (!info.declared) {
    // No header size (unusual formats): check now, before anything else is allocated.
    try {
      check({ width: bitmap.width, height: bitmap.height });
    } catch (error) {
      bitmap.close();
      throw error;
    }
  }

  if (target) {
    notes.push(
      `Downscaled from ${info.declared?.width ?? '?'} × ${info.declared?.height ?? '?'} to ${bitmap.width} × ${bitmap.height} px to fit this device.`,
    );
  }
  if (info.kind === 'gif' || info.kind === 'webp' || info.kind === 'png') {
    const frames = await frameCount(file, MIME[info.kind]!);
    if (info.kind === 'gif' || (frames ?? 1) > 1) {
      notes.push(
        frames && frames > 1
          ? `${kindLabel(info.kind)} with ${frames} frames: only the first frame is restored.`
          : `${kindLabel(info.kind)}: only the first frame is restored.`,
      );
    }
  }
  notes.push(...(metadata.dropped ?? []));
  if (metadata.icc && !/\bsRGB\b/i.test(metadata.profile ?? '')) {
    notes.push(
      `Colours converted to sRGB from its ${metadata.profile ?? 'ICC'} profile; the result is saved as sRGB.`,
    );
  }
  if (metadata.orientation && metadata.orientation !== 1) {
    notes.push(`Turned upright from its EXIF orientation (${metadata.orientation}).`);
  }
  return {
    name,
    bitmap,
    width: bitmap.width,
    height: bitmap.height,
    note: notes.length ? notes.join(' ') : null,
    kind: info.kind,
    metadata,
  };
}

/** The largest size this image can be restored at with `scale` (for the downscale choice). */
export function downscaleTarget(size: Size, scale: number): Size | null {
  return fittingSize(size, scale, deviceBudget());
}
