/**
 * What a dropped file really is, from its bytes (never from its name or the browser's guess), with
 * a specific reason when it is not something the app can open: empty, text, truncated, unknown.
 */
import { imageSize } from 'image-size';
import { svgProlog } from './svg-prolog.ts';

export type ImageKind = 'png' | 'jpeg' | 'gif' | 'webp' | 'avif' | 'heif' | 'bmp' | 'svg' | 'other';

export interface FileKind {
  kind: ImageKind;
  /** e.g. 'PNG', for messages. */
  label: string;
  /** Dimensions declared by the file's header (before anything is decoded), when readable. */
  declared: { width: number; height: number } | null;
}

/** A file the app cannot open, with the reason in plain words. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

const LABELS: Record<ImageKind, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  webp: 'WebP',
  avif: 'AVIF',
  heif: 'HEIF',
  bmp: 'BMP',
  svg: 'SVG',
  other: 'image',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** Sniffs the container from the first bytes. */
export function sniffKind(bytes: Uint8Array): ImageKind | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'GIF8') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (/^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)) return 'heif';
  }
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return 'bmp';
  if (looksLikeSvg(bytes)) return 'svg';
  return null;
}

function looksLikeSvg(bytes: Uint8Array): boolean {
  // 64 KiB: room for a DOCTYPE's internal DTD subset before the root element.
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64 * 1024));
  return svgProlog(head) !== null;
}

/** True when the bytes read as text (UTF-8 without control characters), e.g. a renamed .txt. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  if (sample.length === 0) return false;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample);
  } catch {
    return false;
  }
  // A multi-byte character cut at the sample's end is fine; control characters other than
  // whitespace are not text.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) return false;
  }
  return true;
}

/** Whether the file's end is where the format says it must be (PNG IEND, JPEG EOI). */
export function truncation(kind: ImageKind, bytes: Uint8Array): string | null {
  if (kind === 'png') {
    // Walk the chunks: each is length(4) type(4) data crc(4); the last must be IEND.
    let at = 8;
    while (at + 8 <= bytes.length) {
      const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
      const type = ascii(bytes, at + 4, at + 8);
      if (!/^[A-Za-z]{4}$/.test(type)) return 'its PNG chunk structure is broken';
      const end = at + 12 + length;
      if (end > bytes.length) return `the ${type} chunk is cut off`;
      if (type === 'IEND') return null;
      at = end;
    }
    return 'the file ends before the PNG end marker';
  }
  if (kind === 'jpeg') {
    // The end-of-image marker FF D9, allowing for a little padding after it.
    const tail = bytes.subarray(Math.max(0, bytes.length - 64 * 1024));
    for (let i = tail.length - 2; i >= 0; i--) {
      if (tail[i] === 0xff && tail[i + 1] === 0xd9) return null;
    }
    return 'the JPEG data ends before its end-of-image marker';
  }
  if (kind === 'webp' || kind === 'avif' || kind === 'heif') {
    const size =
      kind === 'webp'
        ? new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true) + 8
        : null;
    if (size !== null && size > bytes.length) return 'the file is shorter than its header says';
  }
  return null;
}

function declaredSize(bytes: Uint8Array): { width: number; height: number } | null {
  try {
    const { width, height } = imageSize(bytes);
    return width > 0 && height > 0 ? { width, height } : null;
  } catch {
    return null;
  }
}

/**
 * Identifies the file, or throws ImageDecodeError with a specific reason. `name` is only used in
 * messages; the extension is checked against the content to name the mismatch.
 */
export function identifyFile(bytes: Uint8Array, name: string): FileKind {
  if (bytes.length === 0) throw new ImageDecodeError(`“${name}” is empty (0 bytes).`);
  const kind = sniffKind(bytes);
  if (!kind) {
    const claimed = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toUpperCase();
    if (looksLikeText(bytes)) {
      throw new ImageDecodeError(
        `“${name}” is a text file, not ${claimed ? `a ${claimed} image` : 'an image'}` +
          ' (it was probably renamed). Open a PNG, JPEG, WebP, AVIF, GIF, BMP or SVG file.',
      );
    }
    throw new ImageDecodeError(
      `“${name}” is not in an image format this app knows` +
        `${claimed ? ` (its content is not ${claimed})` : ''}. Open a PNG, JPEG, WebP, AVIF, GIF, BMP or SVG file.`,
    );
  }
  const cut = truncation(kind, bytes);
  if (cut) {
    throw new ImageDecodeError(
      `“${name}” could not be opened as an image: it is damaged or truncated (${cut}; ${bytes.length} bytes). Save or download it again.`,
    );
  }
  return { kind, label: LABELS[kind], declared: kind === 'svg' ? null : declaredSize(bytes) };
}

export function kindLabel(kind: ImageKind): string {
  return LABELS[kind];
}
