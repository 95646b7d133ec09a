/**
 * The pack store's API (workers/worker/pack-store/pack-store.worker.ts, through Comlink): install
 * model packs from a URL or local files into the origin private file system, list and delete them.
 */
import type { PackInstallFailure } from './errors.ts';
import type { LocalFile } from './local-files.ts';

export type { PackInstallFailure, PackInstallErrorCode } from './errors.ts';
export type { LocalFile } from './local-files.ts';

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
