/**
 * Size caps on the metadata the app reads from a source and writes into a result. Compressed
 * blocks (PNG iCCP) are inflated in small steps with a running byte count that stops past the cap,
 * so a few MB of crafted zlib data cannot expand to gigabytes on the page's thread.
 */
import { Unzlib } from 'fflate';
import { concat } from './binary.ts';

/** The largest ICC profile kept; real ones are a few KB, LUT-based printer profiles a few MB. */
export const MAX_ICC_BYTES = 16 << 20;
/** The largest EXIF block kept; JPEG's APP1 segment cannot exceed 64 KB. */
export const MAX_EXIF_BYTES = 1 << 20;
/** Compressed bytes fed to the inflater per step: at most ~1 MB comes out of one step. */
const STEP = 1024;
/** The longest the inflater runs before it gives the page's event loop a turn. */
const SLICE_MS = 20;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A metadata block over its cap: it is dropped, the image still opens. */
export class MetadataTooLargeError extends Error {
  constructor(
    readonly block: string,
    readonly cap: number,
  ) {
    super(`${block} is larger than ${formatBytes(cap)}`);
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** Throws MetadataTooLargeError when `bytes` is over `cap`. */
export function checkSize(block: string, bytes: number, cap: number): void {
  if (bytes > cap) throw new MetadataTooLargeError(block, cap);
}

/**
 * Inflates a zlib stream, stopping as soon as the output passes `cap` bytes (or `declared`, the
 * size the block's own header gives, read from its first 4 bytes big-endian, when that is over the
 * cap). It works in slices of about SLICE_MS, yielding in between, so the page stays responsive.
 * Rejects with MetadataTooLargeError past the cap, and with the inflater's error on damaged data.
 */
export async function inflateCapped(
  block: string,
  compressed: Uint8Array,
  cap: number,
  options: { declaredSizeAt0?: boolean } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let over = false;
  let ended = false;
  const inflater = new Unzlib((chunk, final) => {
    if (over) return;
    total += chunk.length;
    if (total > cap) {
      over = true;
      return;
    }
    parts.push(chunk);
    if (final) ended = true;
  });
  let sliceStart = performance.now();
  for (let at = 0; at < compressed.length && !over && !ended; at += STEP) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
    const end = Math.min(compressed.length, at + STEP);
    inflater.push(compressed.subarray(at, end), end === compressed.length);
    if (options.declaredSizeAt0 && total >= 4 && parts.length > 0) {
      const head = parts[0].length >= 4 ? parts[0] : concat(parts);
      const declared = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
      if (declared > cap) over = true;
    }
  }
  if (over) throw new MetadataTooLargeError(block, cap);
  if (!ended) throw new Error(`${block} is truncated`);
  return concat(parts);
}
