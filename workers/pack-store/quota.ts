/**
 * Storage space: whether a pack fits in what the browser grants this site, and the plain message
 * when it does not.
 */
import { PackInstallError } from './errors.ts';

export interface StorageEstimateLike {
  quota?: number;
  usage?: number;
}

/** Slack kept free beside the pack (manifest, markers, the file system's own bookkeeping). */
export const QUOTA_MARGIN_BYTES = 1024 * 1024;

export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/**
 * The plain message for a full quota. `availableBytes` is the browser's estimate of the free space;
 * when that estimate says there is room (it can be wrong, e.g. when the disk itself is full), the
 * message says the browser refused to store more instead of quoting it. Chromium's private windows
 * (and automation's fresh contexts) keep site storage in memory: there a file of about 1.4 GB is
 * refused although the estimate reports gigabytes free, so the message names that case.
 */
export function quotaError(
  packName: string,
  neededBytes: number,
  availableBytes: number | null,
): PackInstallError {
  const known = availableBytes !== null && availableBytes < neededBytes;
  const free = known ? Math.max(0, availableBytes) : null;
  const what =
    free !== null
      ? `and only ${megabytes(free)} is free for this site. Free ${megabytes(neededBytes - free)}`
      : 'and the browser refused to store it, although it reported room for it. A private window keeps site data in memory and refuses large files: install it from a normal window. Otherwise free some space';
  return new PackInstallError(
    'quota',
    `Not enough storage for “${packName}”: it needs ${megabytes(neededBytes)}, ${what} (delete installed packs, or make room on the disk) and try again.`,
    undefined,
    free !== null ? { neededBytes, availableBytes: free } : { neededBytes },
  );
}

/** A quota error when `neededBytes` does not fit the estimate, else null (also when unknown). */
export function checkQuota(
  packName: string,
  neededBytes: number,
  estimate: StorageEstimateLike,
): PackInstallError | null {
  if (estimate.quota === undefined || estimate.usage === undefined) return null;
  const available = estimate.quota - estimate.usage;
  return neededBytes + QUOTA_MARGIN_BYTES > available
    ? quotaError(packName, neededBytes + QUOTA_MARGIN_BYTES, available)
    : null;
}

/** A write that the storage did not take whole (Chromium's sync access handles report a full quota so). */
export class StorageRefusedError extends Error {
  override name = 'StorageRefusedError';
}

/** Whether a thrown value is the browser saying the storage quota is full. */
export function isQuotaExceeded(error: unknown): boolean {
  return (
    error instanceof StorageRefusedError ||
    (typeof error === 'object' &&
      error !== null &&
      'name' in error &&
      (error as { name: unknown }).name === 'QuotaExceededError')
  );
}
