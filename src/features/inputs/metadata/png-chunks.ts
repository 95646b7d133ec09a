/** PNG's eXIf and iCCP chunks, read and written with png-chunks-extract / png-chunks-encode. */
import { zlibSync } from 'fflate';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { checkSize, inflateCapped, MAX_EXIF_BYTES, MAX_ICC_BYTES } from './limits.ts';

const PROFILE_NAME = 'ICC Profile';

/** Chunks of sources already read (the EXIF and ICC readers both need them; CRCs cost). */
const parsed = new WeakMap<Uint8Array, ReturnType<typeof extractChunks>>();

function sourceChunks(bytes: Uint8Array) {
  let chunks = parsed.get(bytes);
  if (!chunks) parsed.set(bytes, (chunks = extractChunks(bytes)));
  return chunks;
}

export function pngExif(bytes: Uint8Array): Uint8Array | null {
  const chunk = sourceChunks(bytes).find((c) => c.name === 'eXIf');
  if (!chunk) return null;
  checkSize('The EXIF block', chunk.data.length, MAX_EXIF_BYTES);
  return chunk.data.slice();
}

export async function pngIcc(bytes: Uint8Array): Promise<Uint8Array | null> {
  const chunk = sourceChunks(bytes).find((c) => c.name === 'iCCP');
  if (!chunk) return null;
  // name (1-79 bytes), NUL, compression method (0 = zlib), compressed profile.
  const nul = chunk.data.indexOf(0);
  if (nul < 1 || chunk.data[nul + 1] !== 0) return null;
  const compressed = chunk.data.subarray(nul + 2);
  // Checked before inflating (zlib never makes data much larger) and all the way through it.
  checkSize('The colour profile', compressed.length, MAX_ICC_BYTES);
  return inflateCapped('The colour profile', compressed, MAX_ICC_BYTES, { declaredSizeAt0: true });
}

/**
 * The same PNG with an iCCP and/or eXIf chunk right after IHDR (both must precede IDAT). An iCCP
 * replaces sRGB / gAMA / cHRM chunks, which would contradict it.
 */
export function pngWithMetadata(
  bytes: Uint8Array,
  meta: { exif: Uint8Array | null; icc: Uint8Array | null },
): Uint8Array {
  const replaced = new Set(['eXIf', 'iCCP', ...(meta.icc ? ['sRGB', 'gAMA', 'cHRM'] : [])]);
  const chunks = extractChunks(bytes).filter((c) => !replaced.has(c.name));
  const added: { name: string; data: Uint8Array }[] = [];
  if (meta.exif) checkSize('The EXIF block', meta.exif.length, MAX_EXIF_BYTES);
  if (meta.icc) {
    checkSize('The colour profile', meta.icc.length, MAX_ICC_BYTES);
    const name = new TextEncoder().encode(PROFILE_NAME);
    const compressed = zlibSync(meta.icc, { level: 9 });
    const data = new Uint8Array(name.length + 2 + compressed.length);
    data.set(name);
    data.set(compressed, name.length + 2);
    added.push({ name: 'iCCP', data });
  }
  if (meta.exif) added.push({ name: 'eXIf', data: meta.exif });
  const ihdr = chunks.findIndex((c) => c.name === 'IHDR');
  chunks.splice(ihdr + 1, 0, ...added);
  return encodeChunks(chunks);
}
