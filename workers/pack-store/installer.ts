/**
 * Installs a model pack into the origin private file system, from a manifest URL or local files.
 *
 * - Every file streams from the network (or the picked file) straight into its OPFS file through
 *   a sync access handle, hashed (sha256) on the way: no file is ever held whole in memory.
 * - Each file's size and hash must match the manifest; each ONNX graph must parse and, once all
 *   are in, fit the manifest (names, dtypes, shapes); the embeddings must hold the named tensors.
 * - Space is checked before anything is written and reserved file by file (truncate to the full
 *   size first), so a full quota fails early with how much space is needed.
 * - Everything goes into a fresh folder that only counts as installed once its marker is written
 *   last; any failure or cancellation removes the folder, so nothing half-installed remains and
 *   the install can simply be tried again.
 */
import { createSHA256 } from 'hash-wasm';
import {
  PackManifestError,
  packFilePaths,
  parsePackManifest,
  type PackManifest,
} from '../../engine/latent/manifest.ts';
import { download, urlOpener, type OpenAt } from './download.ts';
import { PackInstallError } from './errors.ts';
import { findManifest, matchPackFiles } from './local-files.ts';
import {
  fileAt,
  folderName,
  idOfFolder,
  newNonce,
  packFolders,
  packsRoot,
  removeFolder,
  writeMarker,
  writeSmallFile,
} from '../opfs/opfs-store.ts';
import {
  checkEmbeddings,
  checkExternalData,
  checkGraphHeaders,
  readGraphHeader,
} from './pack-check.ts';
import type { OnnxHeader } from '../../engine/onnx/onnx-reader.ts';
import type {
  InstalledPack,
  InstallProgress,
  InstallSource,
} from '../contract/pack-store-protocol.ts';
import { checkQuota, isQuotaExceeded, quotaError, StorageRefusedError } from './quota.ts';
import { blobSource } from '../opfs/random-access.ts';
import { SpeedMeter } from './speed-meter.ts';
import { errorText } from '../contract/error-text.ts';

/** manifest.json is small; anything bigger is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Embeddings are read whole to check them (GenDR's: 77 x 1024 floats, 315 KB). */
const MAX_EMBEDDINGS_BYTES = 256 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

export interface InstallContext {
  signal: AbortSignal;
  progress(progress: InstallProgress): void;
}

/** Where a pack's files come from. */
interface PackInput {
  /** Stored as the pack's source: the manifest URL or 'local files'. */
  label: string;
  manifestBytes: Uint8Array;
  /** Opens one file listed in the manifest, at a byte offset where the source can seek. */
  open(path: string, manifest: PackManifest): OpenAt;
}

/** The manifest URL for what the user typed: a manifest.json URL or the pack folder's URL. */
export function manifestUrlOf(input: string): URL {
  let url: URL;
  try {
    url = new URL(input.trim(), self.location.href);
  } catch {
    throw new PackInstallError('manifest', `“${input}” is not a URL.`, 'manifest.json');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PackInstallError('manifest', `${url.href}: only http(s) URLs can be installed from.`);
  }
  if (!url.pathname.endsWith('.json')) {
    url.pathname = `${url.pathname.replace(/\/?$/, '/')}manifest.json`;
  }
  return url;
}

async function fetchOrFail(
  url: string,
  path: string,
  signal: AbortSignal,
  init?: RequestInit,
): Promise<Response> {
  let response: Response;
  try {
    // no-store: a pack goes to its own store, not a second time into the HTTP cache.
    response = await fetch(url, { ...init, signal, cache: 'no-store' });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new PackInstallError(
      'network',
      `${path}: could not download ${url} (${errorText(error)}). Check the address, your connection, and that the server allows this site (CORS).`,
      path,
    );
  }
  if (response.status === 404) {
    throw new PackInstallError('missing-file', `${path} is missing: ${url} answered 404.`, path);
  }
  if (!response.ok || !response.body) {
    throw new PackInstallError(
      'network',
      `${path}: ${url} answered HTTP ${response.status} ${response.statusText}.`,
      path,
    );
  }
  return response;
}

async function urlInput(input: string, signal: AbortSignal): Promise<PackInput> {
  const manifestUrl = manifestUrlOf(input);
  const response = await fetchOrFail(manifestUrl.href, 'manifest.json', signal);
  const manifestBytes = new Uint8Array(await response.arrayBuffer());
  return {
    label: manifestUrl.href,
    manifestBytes,
    open: (path) => urlOpener(new URL(path, manifestUrl).href, path, fetchOrFail),
  };
}

async function filesInput(source: Extract<InstallSource, { kind: 'files' }>): Promise<PackInput> {
  const manifest = findManifest(source.files);
  if (!manifest) {
    throw new PackInstallError(
      'manifest',
      'manifest.json is missing: pick the pack’s folder, or drop its manifest.json together with its files.',
      'manifest.json',
    );
  }
  if (manifest.file.size > MAX_MANIFEST_BYTES) {
    throw new PackInstallError('manifest', 'manifest.json is too big to be a pack manifest.');
  }
  let matched: Map<string, Blob> | null = null;
  return {
    label: 'local files',
    manifestBytes: new Uint8Array(await manifest.file.arrayBuffer()),
    open(path, parsed) {
      matched ??= matchPackFiles(parsed.files, source.files, manifest.path);
      const file = matched.get(path);
      if (!file) throw new PackInstallError('missing-file', `${path} is missing.`, path);
      return async (offset) => ({
        stream: file.slice(offset).stream() as ReadableStream<Uint8Array>,
        offset,
      });
    },
  };
}

export function parseManifestBytes(bytes: Uint8Array): PackManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new PackInstallError(
      'manifest',
      'manifest.json is too big to be a pack manifest.',
      'manifest.json',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new PackInstallError(
      'manifest',
      `manifest.json is not valid JSON (${errorText(error)}).`,
      'manifest.json',
    );
  }
  try {
    return parsePackManifest(json, 'manifest.json');
  } catch (error) {
    if (error instanceof PackManifestError)
      throw new PackInstallError('manifest', error.message, 'manifest.json');
    throw error;
  }
}

/** Every file the manifest lists, the ones the pipeline loads first, in its order. */
export function installOrder(manifest: PackManifest): string[] {
  const first = packFilePaths(manifest);
  return [
    ...first,
    ...Object.keys(manifest.files)
      .filter((p) => !first.includes(p))
      .sort(),
  ];
}

/**
 * Writes one file into `handle`, checking its size and sha256 on the way; a stalled or broken
 * download resumes where the verified bytes end (download.ts).
 */
async function streamToFile(
  openAt: OpenAt,
  handle: FileSystemFileHandle,
  path: string,
  expected: { bytes: number; sha256: string },
  onBytes: (count: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const access = await handle.createSyncAccessHandle();
  try {
    // Reserve the whole size first: a full quota fails here, before the download.
    access.truncate(expected.bytes);
    if (access.getSize() !== expected.bytes)
      throw new StorageRefusedError(`${path}: the storage did not take ${expected.bytes} bytes`);
    const hasher = await createSHA256();
    hasher.init();
    let counted = 0;
    const at = await download(
      path,
      expected.bytes,
      openAt,
      {
        chunk(bytes, offset) {
          if (offset + bytes.byteLength > expected.bytes) {
            throw new PackInstallError(
              'size-mismatch',
              `${path} is bigger than the ${expected.bytes} bytes the manifest says.`,
              path,
            );
          }
          const written = access.write(bytes as Uint8Array<ArrayBuffer>, { at: offset });
          if (written !== bytes.byteLength)
            throw new StorageRefusedError(
              `${path}: the storage took ${written} of ${bytes.byteLength} bytes`,
            );
          hasher.update(bytes);
          counted += bytes.byteLength;
          onBytes(bytes.byteLength);
        },
        restart() {
          hasher.init();
          onBytes(-counted);
          counted = 0;
        },
      },
      { signal },
    );
    if (at !== expected.bytes) {
      throw new PackInstallError(
        'size-mismatch',
        `${path} has ${at} bytes, the manifest says ${expected.bytes}${at < expected.bytes ? ' (cut short?)' : ''}.`,
        path,
      );
    }
    const hash = hasher.digest('hex');
    if (hash !== expected.sha256) {
      throw new PackInstallError(
        'hash-mismatch',
        `${path} is damaged or not the file the manifest means: its sha256 is ${hash.slice(0, 12)}…, the manifest says ${expected.sha256.slice(0, 12)}….`,
        path,
      );
    }
    access.flush();
  } finally {
    access.close();
  }
}

async function estimate(): Promise<StorageEstimate> {
  return navigator.storage?.estimate ? navigator.storage.estimate() : {};
}

export async function installPack(
  source: InstallSource,
  ctx: InstallContext,
): Promise<InstalledPack> {
  const { signal } = ctx;
  const meter = new SpeedMeter();
  const state: InstallProgress = {
    phase: 'manifest',
    packName: null,
    file: null,
    filesDone: 0,
    fileCount: 0,
    bytesDone: 0,
    bytesTotal: 0,
    bytesPerSecond: 0,
  };
  let lastReport = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    state.bytesPerSecond = meter.bytesPerSecond(now);
    ctx.progress({ ...state });
  };
  report(true);

  const input =
    source.kind === 'url' ? await urlInput(source.url, signal) : await filesInput(source);
  const manifest = parseManifestBytes(input.manifestBytes);
  const paths = installOrder(manifest);
  const total =
    input.manifestBytes.byteLength + paths.reduce((sum, p) => sum + manifest.files[p].bytes, 0);
  Object.assign(state, {
    packName: manifest.name,
    fileCount: paths.length,
    bytesTotal: total,
    phase: 'downloading',
  });
  report(true);

  const space = await estimate();
  const quotaProblem = checkQuota(manifest.name, total, space);
  if (quotaProblem) throw quotaProblem;
  const available =
    space.quota !== undefined && space.usage !== undefined ? space.quota - space.usage : null;

  const root = await packsRoot();
  const name = folderName(manifest.id, newNonce());
  const folder = await root.getDirectoryHandle(name, { create: true });
  try {
    const headers = new Map<string, OnnxHeader>();
    for (const path of paths) {
      state.file = path;
      report(true);
      const entry = manifest.files[path];
      const handle = await fileAt(folder, path, true);
      const openAt = input.open(path, manifest);
      meter.add(performance.now(), 0);
      await streamToFile(
        openAt,
        handle,
        path,
        entry,
        (count) => {
          // Negative when a download starts over (a server that ignores Range).
          state.bytesDone += count;
          if (count > 0) meter.add(performance.now(), count);
          report();
        },
        signal,
      );
      if (path.endsWith('.onnx')) {
        const header = await readGraphHeader(blobSource(await handle.getFile()), path);
        checkExternalData(manifest, path, header);
        headers.set(path, header);
      } else if (manifest.unet && path === manifest.unet.embeddings.file) {
        if (entry.bytes > MAX_EMBEDDINGS_BYTES)
          throw new PackInstallError('embeddings', `${path} is too big for embeddings.`, path);
        const file = await handle.getFile();
        checkEmbeddings(manifest, new Uint8Array(await file.arrayBuffer()));
      }
      state.filesDone++;
      signal.throwIfAborted();
    }
    state.phase = 'checking';
    state.file = null;
    report(true);
    checkGraphHeaders(manifest, headers);

    state.phase = 'finishing';
    report(true);
    await writeSmallFile(folder, 'manifest.json', input.manifestBytes);
    state.bytesDone += input.manifestBytes.byteLength;
    const pack: InstalledPack = {
      id: manifest.id,
      name: manifest.name,
      description: manifest.description,
      licence: manifest.licence,
      bytes: total,
      files: paths.length + 1,
      precision: manifest.precision,
      scale: manifest.input.scale,
      hasUnet: !!manifest.unet,
      installedAt: new Date().toISOString(),
      source: input.label,
    };
    // The marker makes it an installed pack: written last, outside the folder (opfs-store.ts).
    await writeMarker(name, pack);
    report(true);
    // An older copy of the same pack goes only now that the new one is complete.
    for (const other of await packFolders(root)) {
      if (other.name === name) continue;
      const id = other.marker ? other.marker.id : idOfFolder(other.name);
      if (id === manifest.id) await removeFolder(root, other.name).catch(() => undefined);
    }
    return pack;
  } catch (error) {
    await removeFolder(root, name).catch(() => undefined);
    if (signal.aborted) throw new PackInstallError('cancelled', 'The install was cancelled.');
    if (isQuotaExceeded(error)) {
      throw quotaError(manifest.name, total, available);
    }
    throw error;
  }
}

/** Anything thrown by an install as a PackInstallError. */
export function asInstallError(error: unknown, signal: AbortSignal): PackInstallError {
  if (error instanceof PackInstallError) return error;
  if (signal.aborted) return new PackInstallError('cancelled', 'The install was cancelled.');
  if (isQuotaExceeded(error)) {
    return new PackInstallError(
      'quota',
      `Not enough storage for this pack (${errorText(error)}). Delete installed packs or free disk space, then try again.`,
    );
  }
  return new PackInstallError('storage', `The install failed: ${errorText(error)}`);
}
