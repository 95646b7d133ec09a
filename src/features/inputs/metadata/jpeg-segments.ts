/**
 * JPEG marker segments before the image data: where EXIF (APP1 "Exif\0\0") and ICC profiles
 * (APP2 "ICC_PROFILE\0", possibly split over several segments) live.
 */
import { concat, EXIF_HEADER, startsWithAscii } from './binary.ts';
import { checkSize, MAX_EXIF_BYTES, MAX_ICC_BYTES } from './limits.ts';

export interface JpegSegment {
  marker: number;
  /** Offset of the 0xFF marker byte. */
  offset: number;
  /** The segment's payload (after the 2-byte length). */
  data: Uint8Array;
}

const SOI = 0xd8;
const SOS = 0xda;
const ICC_HEADER = 'ICC_PROFILE\0';
/** Payload bytes per APP2 segment: 65535 - 2 (length) - 12 (header) - 2 (sequence, count). */
const ICC_CHUNK = 65519;

/** The segments from SOI up to (not including) the start of scan. */
export function jpegSegments(bytes: Uint8Array): JpegSegment[] {
  if (bytes[0] !== 0xff || bytes[1] !== SOI) throw new Error('not a JPEG');
  const segments: JpegSegment[] = [];
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) break;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === SOS || marker === 0xd9) break;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.length) break;
    segments.push({ marker, offset: at, data: bytes.subarray(at + 4, at + 2 + length) });
    at += 2 + length;
  }
  return segments;
}

export function jpegExif(bytes: Uint8Array): Uint8Array | null {
  const segment = jpegSegments(bytes).find(
    (s) => s.marker === 0xe1 && startsWithAscii(s.data, EXIF_HEADER),
  );
  if (!segment) return null;
  checkSize('The EXIF block', segment.data.length - EXIF_HEADER.length, MAX_EXIF_BYTES);
  return segment.data.slice(EXIF_HEADER.length);
}

export function jpegIcc(bytes: Uint8Array): Uint8Array | null {
  const parts = jpegSegments(bytes)
    .filter((s) => s.marker === 0xe2 && startsWithAscii(s.data, ICC_HEADER))
    .map((s) => ({ seq: s.data[12], data: s.data.subarray(14) }))
    .sort((a, b) => a.seq - b.seq);
  checkSize(
    'The colour profile',
    parts.reduce((n, p) => n + p.data.length, 0),
    MAX_ICC_BYTES,
  );
  return parts.length ? concat(parts.map((p) => p.data)) : null;
}

/** APP2 segments carrying `icc`, ready to insert into a JPEG. */
export function iccSegments(icc: Uint8Array): Uint8Array {
  const count = Math.ceil(icc.length / ICC_CHUNK);
  const segments: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK);
    const length = 2 + ICC_HEADER.length + 2 + chunk.length;
    const head = new Uint8Array(4 + ICC_HEADER.length + 2);
    head.set([0xff, 0xe2, length >> 8, length & 0xff]);
    for (let j = 0; j < ICC_HEADER.length; j++) head[4 + j] = ICC_HEADER.charCodeAt(j);
    head[4 + ICC_HEADER.length] = i + 1;
    head[5 + ICC_HEADER.length] = count;
    segments.push(head, chunk);
  }
  return concat(segments);
}

/** Inserts raw segments after SOI and any APP0 (JFIF) / APP1 segments, where readers expect them. */
export function insertSegments(jpeg: Uint8Array, segments: Uint8Array): Uint8Array {
  let at = 2;
  for (const s of jpegSegments(jpeg)) {
    if (s.marker !== 0xe0 && s.marker !== 0xe1) break;
    at = s.offset + 2 + s.data.length + 2;
  }
  return concat([jpeg.subarray(0, at), segments, jpeg.subarray(at)]);
}

/** Removes every APP2 ICC segment (before writing new ones). */
export function withoutIcc(jpeg: Uint8Array): Uint8Array {
  const drop = jpegSegments(jpeg).filter(
    (s) => s.marker === 0xe2 && startsWithAscii(s.data, ICC_HEADER),
  );
  if (drop.length === 0) return jpeg;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const s of drop) {
    parts.push(jpeg.subarray(at, s.offset));
    at = s.offset + 2 + s.data.length + 2;
  }
  parts.push(jpeg.subarray(at));
  return concat(parts);
}
