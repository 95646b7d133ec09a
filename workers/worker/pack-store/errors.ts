/**
 * Why an install failed, in a form that survives the trip to the page (Comlink keeps only an
 * Error's message): a code, a plain message, and the pack file concerned.
 */

export type PackInstallErrorCode =
  /** manifest.json missing, not JSON, or failing the schema. */
  | 'manifest'
  | 'missing-file'
  | 'size-mismatch'
  | 'hash-mismatch'
  | 'onnx-unparsable'
  | 'onnx-unsupported'
  | 'interface-mismatch'
  | 'embeddings'
  /** Not enough storage for the pack. */
  | 'quota'
  /** A download failed or was cut off. */
  | 'network'
  | 'cancelled'
  /** Another install holds the store. */
  | 'busy'
  /** The browser's storage failed or is missing (no OPFS). */
  | 'storage';

export interface PackInstallFailure {
  code: PackInstallErrorCode;
  message: string;
  /** The pack-relative path of the file concerned, when there is one. */
  file?: string;
  /** For 'quota': bytes the pack needs and bytes free. */
  neededBytes?: number;
  availableBytes?: number;
}

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
