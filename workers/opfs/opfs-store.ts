/**
 * Installed packs in the origin private file system (OPFS):
 *
 *   gendr-packs/
 *     <id>~<nonce>/            one installed copy of a pack
 *       manifest.json
 *       vae_encoder/model.onnx ...
 *       installed.json         the install marker, written last
 *
 * A folder without installed.json is an install that did not finish: it is never listed or
 * loaded, and cleanup removes it. Deleting removes the marker first, so a deletion cut short
 * leaves such a folder too. Reinstalling a pack writes a new folder and removes the old one only
 * after the new marker is written, so there is always one complete copy.
 */
import type { InstalledPack } from '../contract/pack-store-protocol.ts';

export const PACKS_DIR = 'gendr-packs';
export const MARKER_FILE = 'installed.json';
const MARKER_FORMAT = 'gendr-installed-pack';

export interface InstallMarker extends InstalledPack {
  format: typeof MARKER_FORMAT;
  version: 1;
}

export interface PackFolder {
  /** Folder name under gendr-packs/. */
  name: string;
  handle: FileSystemDirectoryHandle;
  /** Null when the install did not finish. */
  marker: InstallMarker | null;
}

export class PackStorageError extends Error {
  override name = 'PackStorageError';
}

export async function packsRoot(): Promise<FileSystemDirectoryHandle> {
  if (!navigator.storage?.getDirectory) {
    throw new PackStorageError(
      'This browser has no origin private file system, so model packs cannot be installed here.',
    );
  }
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(PACKS_DIR, { create: true });
}

export function folderName(id: string, nonce: string): string {
  return `${id}~${nonce}`;
}

export function idOfFolder(name: string): string {
  const at = name.lastIndexOf('~');
  return at > 0 ? name.slice(0, at) : name;
}

export function newNonce(): string {
  return `${Date.now().toString(36)}${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
}

async function readJson(dir: FileSystemDirectoryHandle, name: string): Promise<unknown> {
  const handle = await dir.getFileHandle(name).catch(() => null);
  if (!handle) return null;
  try {
    return JSON.parse(await (await handle.getFile()).text());
  } catch {
    return null;
  }
}

function isMarker(value: unknown): value is InstallMarker {
  const m = value as Partial<InstallMarker> | null;
  return (
    !!m &&
    m.format === MARKER_FORMAT &&
    m.version === 1 &&
    typeof m.id === 'string' &&
    typeof m.bytes === 'number'
  );
}

/** A folder's entries (async iteration is in TypeScript's DOM.AsyncIterable lib, not used here). */
function entriesOf(dir: FileSystemDirectoryHandle): AsyncIterable<[string, FileSystemHandle]> {
  return (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries();
}

/** Every folder under gendr-packs/, finished or not. */
export async function packFolders(root?: FileSystemDirectoryHandle): Promise<PackFolder[]> {
  const dir = root ?? (await packsRoot());
  const folders: PackFolder[] = [];
  for await (const [name, handle] of entriesOf(dir)) {
    if (handle.kind !== 'directory') continue;
    const json = await readJson(handle as FileSystemDirectoryHandle, MARKER_FILE);
    folders.push({
      name,
      handle: handle as FileSystemDirectoryHandle,
      marker: isMarker(json) ? json : null,
    });
  }
  return folders;
}

/** The newest finished folder of each pack id. */
export function latestById(folders: readonly PackFolder[]): Map<string, PackFolder> {
  const latest = new Map<string, PackFolder>();
  for (const folder of folders) {
    if (!folder.marker) continue;
    const current = latest.get(folder.marker.id);
    if (!current || folder.marker.installedAt > current.marker!.installedAt)
      latest.set(folder.marker.id, folder);
  }
  return latest;
}

function toInstalledPack(marker: InstallMarker): InstalledPack {
  const { format: _format, version: _version, ...pack } = marker;
  return pack;
}

export async function listInstalled(): Promise<InstalledPack[]> {
  const latest = latestById(await packFolders());
  return [...latest.values()]
    .map((f) => toInstalledPack(f.marker!))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The folder of an installed pack, or null. */
export async function findInstalled(id: string): Promise<PackFolder | null> {
  return latestById(await packFolders()).get(id) ?? null;
}

/** Removes a folder: its marker first, then the rest. */
export async function removeFolder(root: FileSystemDirectoryHandle, name: string): Promise<void> {
  const folder = await root.getDirectoryHandle(name).catch(() => null);
  if (!folder) return;
  await folder.removeEntry(MARKER_FILE).catch(() => undefined);
  await root.removeEntry(name, { recursive: true });
}

/** The handle of a file at a pack-relative path, creating folders on the way when asked. */
export async function fileAt(
  folder: FileSystemDirectoryHandle,
  path: string,
  create: boolean,
): Promise<FileSystemFileHandle> {
  const parts = path.split('/');
  let dir = folder;
  for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create });
  return dir.getFileHandle(parts[parts.length - 1], { create });
}

export async function writeSmallFile(
  folder: FileSystemDirectoryHandle,
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const handle = await fileAt(folder, path, true);
  // Sync access handles (dedicated workers only) are OPFS's fastest and most widely supported writer.
  const access = await handle.createSyncAccessHandle();
  try {
    access.truncate(0);
    access.write(bytes as Uint8Array<ArrayBuffer>, { at: 0 });
    access.flush();
  } finally {
    access.close();
  }
}

export function markerFor(pack: InstalledPack): InstallMarker {
  return { format: MARKER_FORMAT, version: 1, ...pack };
}
