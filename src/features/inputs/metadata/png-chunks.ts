/** PNG's eXIf and iCCP chunks, read and written with png-chunks-extract / png-chunks-encode. */
import { unzlibSync, zlibSync } from 'fflate';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';

const PROFILE_NAME = 'ICC Profile';

export function pngExif(bytes: Uint8Array): Uint8Array | null {
  const chunk = extractChunks(bytes).find((c) => c.name === 'eXIf');
  return chunk ? chunk.data.slice() : null;
}

export function pngIcc(bytes: Uint8Array): Uint8Array | null {
  const chunk = extractChunks(bytes).find((c) => c.name === 'iCCP');
  if (!chunk) return null;
  // name (1-79 bytes), NUL, compression method (0 = zlib), compressed profile.
  const nul = chunk.data.indexOf(0);
  if (nul < 1 || chunk.data[nul + 1] !== 0) return null;
  return unzlibSync(chunk.data.subarray(nul + 2));
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
  if (meta.icc) {
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
