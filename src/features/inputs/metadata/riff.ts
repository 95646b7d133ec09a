/**
 * WebP's RIFF container: reading its EXIF / ICCP chunks, and writing them, which needs the
 * extended (VP8X) header with the matching flags. https://developers.google.com/speed/webp/docs/riff_container
 */
import { ascii, concat, EXIF_HEADER, startsWithAscii } from './binary.ts';
import { checkSize, MAX_EXIF_BYTES, MAX_ICC_BYTES } from './limits.ts';

export interface RiffChunk {
  type: string;
  data: Uint8Array;
}

export function webpChunks(bytes: Uint8Array): RiffChunk[] {
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 12) !== 'WEBP')
    throw new Error('not a WebP');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = Math.min(bytes.length, view.getUint32(4, true) + 8);
  const chunks: RiffChunk[] = [];
  let at = 12;
  while (at + 8 <= end) {
    const type = ascii(bytes, at, at + 4);
    const size = view.getUint32(at + 4, true);
    if (at + 8 + size > end) break;
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size & 1);
  }
  return chunks;
}

export function webpExif(bytes: Uint8Array): Uint8Array | null {
  const chunk = webpChunks(bytes).find((c) => c.type === 'EXIF');
  if (!chunk) return null;
  checkSize('The EXIF block', chunk.data.length, MAX_EXIF_BYTES + EXIF_HEADER.length);
  // Some writers keep JPEG's "Exif\0\0" prefix; the chunk should hold bare TIFF data.
  return startsWithAscii(chunk.data, EXIF_HEADER)
    ? chunk.data.slice(EXIF_HEADER.length)
    : chunk.data.slice();
}

export function webpIcc(bytes: Uint8Array): Uint8Array | null {
  const chunk = webpChunks(bytes).find((c) => c.type === 'ICCP');
  if (!chunk) return null;
  checkSize('The colour profile', chunk.data.length, MAX_ICC_BYTES);
  return chunk.data.slice();
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  for (let i = 0; i < 4; i++) head[i] = type.charCodeAt(i);
  new DataView(head.buffer).setUint32(4, data.length, true);
  return concat(data.length & 1 ? [head, data, new Uint8Array(1)] : [head, data]);
}

const FLAG_ICC = 0x20;
const FLAG_ALPHA = 0x10;
const FLAG_EXIF = 0x08;

/** The same WebP with `icc` and/or `exif` (bare TIFF) chunks, in the order the spec requires. */
export function webpWithMetadata(
  bytes: Uint8Array,
  size: { width: number; height: number },
  meta: { exif: Uint8Array | null; icc: Uint8Array | null },
): Uint8Array {
  const chunks = webpChunks(bytes).filter(
    (c) => c.type !== 'VP8X' && c.type !== 'ICCP' && c.type !== 'EXIF',
  );
  const original = webpChunks(bytes).find((c) => c.type === 'VP8X');
  const hasAlpha =
    chunks.some((c) => c.type === 'ALPH') ||
    (original ? (original.data[0] & FLAG_ALPHA) !== 0 : false) ||
    chunks.some((c) => c.type === 'VP8L' && (c.data[4] & 0x10) !== 0);
  const vp8x = new Uint8Array(10);
  vp8x[0] =
    (original ? original.data[0] & ~(FLAG_ICC | FLAG_EXIF) : 0) |
    (hasAlpha ? FLAG_ALPHA : 0) |
    (meta.icc ? FLAG_ICC : 0) |
    (meta.exif ? FLAG_EXIF : 0);
  const w = size.width - 1;
  const h = size.height - 1;
  vp8x.set(
    [w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff],
    4,
  );
  const body = concat([
    new TextEncoder().encode('WEBP'),
    chunk('VP8X', vp8x),
    ...(meta.icc ? [chunk('ICCP', meta.icc)] : []),
    ...chunks.map((c) => chunk(c.type, c.data)),
    ...(meta.exif ? [chunk('EXIF', meta.exif)] : []),
  ]);
  const head = new Uint8Array(8);
  head.set(new TextEncoder().encode('RIFF'));
  new DataView(head.buffer).setUint32(4, body.length, true);
  return concat([head, body]);
}
