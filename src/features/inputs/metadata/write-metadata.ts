/**
 * Puts the source's EXIF (minus orientation) and ICC profile into an encoded result, where the
 * format can hold them: PNG (eXIf, iCCP), JPEG (APP1, APP2), WebP (EXIF, ICCP in a VP8X file).
 */
import type { OutputFormat } from '../../../lib/encode-image.ts';
import { rewriteExif, jpegWithExif } from './exif-rewrite.ts';
import type { ImageMetadata } from './image-metadata.ts';
import { iccSegments, insertSegments, withoutIcc } from './jpeg-segments.ts';
import { formatBytes, MAX_EXIF_BYTES, MAX_ICC_BYTES } from './limits.ts';
import { pngWithMetadata } from './png-chunks.ts';
import { webpWithMetadata } from './riff.ts';

export interface MetadataWriteResult {
  bytes: Uint8Array;
  /** What was written, for the UI: e.g. ['EXIF', 'ICC profile']. */
  kept: string[];
  /** Parts that could not be carried over, with the reason. */
  dropped: string[];
}

export function writeMetadata(
  encoded: Uint8Array,
  format: OutputFormat,
  size: { width: number; height: number },
  meta: Pick<ImageMetadata, 'exif' | 'icc'>,
): MetadataWriteResult {
  const dropped: string[] = [];
  let exif: Uint8Array | null = null;
  // The same caps as on reading (metadata/limits.ts): nothing larger is parsed or re-encoded.
  if (meta.exif && meta.exif.length > MAX_EXIF_BYTES) {
    dropped.push(`EXIF (larger than ${formatBytes(MAX_EXIF_BYTES)})`);
  } else if (meta.exif) {
    try {
      exif = rewriteExif(meta.exif, size);
    } catch (error) {
      dropped.push(`EXIF (${error instanceof Error ? error.message : 'unreadable'})`);
    }
  }
  let icc = meta.icc;
  if (icc && icc.length > MAX_ICC_BYTES) {
    dropped.push(`ICC profile (larger than ${formatBytes(MAX_ICC_BYTES)})`);
    icc = null;
  }
  const kept = [...(exif ? ['EXIF'] : []), ...(icc ? ['ICC profile'] : [])];
  if (!exif && !icc) return { bytes: encoded, kept, dropped };
  let bytes: Uint8Array;
  if (format === 'png') {
    bytes = pngWithMetadata(encoded, { exif, icc });
  } else if (format === 'jpeg') {
    bytes = encoded;
    if (icc) bytes = insertSegments(withoutIcc(bytes), iccSegments(icc));
    if (exif) bytes = jpegWithExif(bytes, exif);
  } else {
    bytes = webpWithMetadata(encoded, size, { exif, icc });
  }
  return { bytes, kept, dropped };
}

/** writeMetadata on a Blob, keeping its type. */
export async function blobWithMetadata(
  blob: Blob,
  format: OutputFormat,
  size: { width: number; height: number },
  meta: Pick<ImageMetadata, 'exif' | 'icc'> | null,
): Promise<Blob> {
  if (!meta || (!meta.exif && !meta.icc)) return blob;
  const { bytes } = writeMetadata(new Uint8Array(await blob.arrayBuffer()), format, size, meta);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: blob.type });
}
