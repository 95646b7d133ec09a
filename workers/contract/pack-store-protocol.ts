/**
 * The pack store's API (workers/pack-store/pack-store.worker.ts, through Comlink): install
 * model packs from a URL or local files into the origin private file system, list and delete them.
 */
/** Why an install failed: a code, a plain message, and the pack file concerned. */
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

/** A failure in a form that survives the trip to the page (Comlink keeps only an Error's message). */
export interface PackInstallFailure {
  code: PackInstallErrorCode;
  message: string;
  /** The pack-relative path of the file concerned, when there is one. */
  file?: string;
  /** For 'quota': bytes the pack needs and bytes free. */
  neededBytes?: number;
  availableBytes?: number;
}

/** A local file to install from. */
export interface LocalFile {
  /** Relative path as picked ('my-pack/vae_encoder/model.onnx') or just the name when dropped. */
  path: string;
  file: Blob;
}

/** An installed pack, as listed (read from its install marker). */
export interface InstalledPack {
  id: string;
  name: string;
  description: string;
  licence: string;
  /** Bytes of all its files, manifest included. */
  bytes: number;
  files: number;
  precision: 'fp32' | 'fp16';
  /** Upscale factor of the input. */
  scale: number;
  hasUnet: boolean;
  /** ISO time of the install. */
  installedAt: string;
  /** The manifest URL it came from, or 'local files'. */
  source: string;
}

export type InstallSource =
  | { kind: 'url'; url: string }
  | {
      kind: 'files';
      files: LocalFile[];
    };

export type InstallPhase = 'manifest' | 'downloading' | 'checking' | 'finishing';

export interface InstallProgress {
  phase: InstallPhase;
  packName: string | null;
  /** The file being written ('vae_encoder/model.onnx'), or null between files. */
  file: string | null;
  filesDone: number;
  fileCount: number;
  bytesDone: number;
  bytesTotal: number;
  /** Averaged over the last few seconds; 0 before there is enough to say. */
  bytesPerSecond: number;
}

export interface InstallEvents {
  progress(progress: InstallProgress): void;
}

export type InstallOutcome =
  { ok: true; pack: InstalledPack } | { ok: false; error: PackInstallFailure };

export interface PackStoreApi {
  list(): Promise<InstalledPack[]>;
  install(source: InstallSource, events: InstallEvents): Promise<InstallOutcome>;
  /** Stops the running install, which then ends with the 'cancelled' error and leaves nothing. */
  cancelInstall(): void;
  /** Deletes an installed pack; false when there was none with this id. */
  remove(id: string): Promise<boolean>;
  /** Removes what interrupted installs left behind; returns how many folders it removed. */
  cleanup(): Promise<number>;
}
