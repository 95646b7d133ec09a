/**
 * Why an install failed, in a form that survives the trip to the page (Comlink keeps only an
 * Error's message): a code, a plain message, and the pack file concerned.
 */

import type { PackInstallErrorCode, PackInstallFailure } from '../contract/pack-store-protocol.ts';

export type { PackInstallErrorCode, PackInstallFailure };

export class PackInstallError extends Error {
  override name = 'PackInstallError';
  constructor(
    readonly code: PackInstallErrorCode,
    message: string,
    readonly file?: string,
    readonly extra: Pick<PackInstallFailure, 'neededBytes' | 'availableBytes'> = {},
  ) {
    super(message);
  }

  toFailure(): PackInstallFailure {
    return {
      code: this.code,
      message: this.message,
      ...(this.file ? { file: this.file } : {}),
      ...this.extra,
    };
  }
}
