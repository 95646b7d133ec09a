/**
 * The metadata of a source image that the app carries over to the result: the EXIF block (TIFF
 * bytes) and the ICC colour profile, found in JPEG, PNG and WebP files, plus a short summary read
 * with exifr for the UI.
 */
import type { ImageKind } from '../file-kind.ts';
import { jpegExif, jpegIcc } from './jpeg-segments.ts';
import { MetadataTooLargeError } from './limits.ts';
import { pngExif, pngIcc } from './png-chunks.ts';
import { webpExif, webpIcc } from './riff.ts';

export interface ImageMetadata {
  /** The EXIF block as TIFF bytes (no "Exif\0\0" header), or null. */
  exif: Uint8Array | null;
  /** The ICC profile, or null. */
  icc: Uint8Array | null;
  /** EXIF orientation (1-8) the browser applied when decoding; null when absent. */
  orientation: number | null;
  /** e.g. "Canon EOS 5D, 2024-05-01 10:22"; null without EXIF. */
  camera: string | null;
  /** The profile's description, e.g. "Display P3"; null without a profile. */
  profile: string | null;
  /** Blocks left out because they were over the size caps (metadata/limits.ts), for the UI. */
  dropped?: readonly string[];
}

export const NO_METADATA: ImageMetadata = {
  exif: null,
  icc: null,
  orientation: null,
  camera: null,
  profile: null,
};

type BlockReader = (bytes: Uint8Array) => Uint8Array | null | Promise<Uint8Array | null>;

const READERS: Partial<Record<ImageKind, { exif: BlockReader; icc: BlockReader }>> = {
  jpeg: { exif: jpegExif, icc: jpegIcc },
  png: { exif: pngExif, icc: pngIcc },
  webp: { exif: webpExif, icc: webpIcc },
};

async function rawBlocks(
  kind: ImageKind,
  bytes: Uint8Array,
): Promise<Pick<ImageMetadata, 'exif' | 'icc'> & { dropped: string[] }> {
  const readers = READERS[kind];
  const dropped: string[] = [];
  const read = async (reader: BlockReader | undefined) => {
    try {
      return reader ? await reader(bytes) : null;
    } catch (error) {
      // Damaged metadata is dropped, not fatal: the pixels decide whether the file opens. An
      // oversized block is dropped too, and the user is told.
      if (error instanceof MetadataTooLargeError)
        dropped.push(`${error.message}: it was left out.`);
      return null;
    }
  };
  return { exif: await read(readers?.exif), icc: await read(readers?.icc), dropped };
}

interface ExifSummary {
  Make?: string;
  Model?: string;
  DateTimeOriginal?: Date | string;
  Orientation?: number;
}

type Exifr = typeof import('exifr');

/** exifr, loaded only for files that have metadata (ESM in the browser, CommonJS under Node). */
async function loadExifr(): Promise<Pick<Exifr, 'parse' | 'sidecar'>> {
  const mod = (await import('exifr')) as Exifr & { default?: Exifr };
  return typeof mod.sidecar === 'function' ? mod : mod.default!;
}

async function summary(exif: Uint8Array | null, icc: Uint8Array | null) {
  const exifr = await loadExifr();
  let camera: string | null = null;
  let orientation: number | null = null;
  let profile: string | null = null;
  if (exif) {
    const tags = (await exifr
      .parse(exif, {
        tiff: true,
        ifd0: { pick: ['Make', 'Model', 'Orientation'] },
        exif: { pick: ['DateTimeOriginal'] },
        translateValues: false,
      })
      .catch(() => null)) as ExifSummary | null;
    if (tags) {
      const model = [tags.Make, tags.Model].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim();
      const date =
        tags.DateTimeOriginal instanceof Date
          ? tags.DateTimeOriginal.toISOString().slice(0, 16).replace('T', ' ')
          : null;
      camera = [model, date].filter(Boolean).join(', ') || 'EXIF data';
      orientation = typeof tags.Orientation === 'number' ? tags.Orientation : null;
    }
  }
  if (icc) {
    const parsed = (await exifr.sidecar(icc, { icc: true }, 'icc').catch(() => null)) as {
      ProfileDescription?: string;
    } | null;
    profile = parsed?.ProfileDescription?.trim() || `${Math.round(icc.length / 1024)} KB profile`;
  }
  return { camera, orientation, profile };
}

export async function readMetadata(kind: ImageKind, bytes: Uint8Array): Promise<ImageMetadata> {
  const { exif, icc, dropped } = await rawBlocks(kind, bytes);
  if (!exif && !icc) return dropped.length ? { ...NO_METADATA, dropped } : NO_METADATA;
  // The summary is only for display: a parsing failure must not stop the image from opening.
  const described = await summary(exif, icc).catch(() => ({
    camera: exif ? 'EXIF data' : null,
    orientation: null,
    profile: icc ? 'ICC profile' : null,
  }));
  return { exif, icc, ...described, ...(dropped.length ? { dropped } : {}) };
}
