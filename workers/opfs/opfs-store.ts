/**
 * Installed packs in the origin private file system (OPFS):
 *
 *   gendr-packs/
 *     <id>~<nonce>/                one installed copy of a pack: exactly the pack's files
 *       manifest.json
 *       vae_encoder/model.onnx ...
 *   gendr-pack-markers/
 *     <id>~<nonce>.installed       its install marker, written last
 *
 * The marker sits in a folder of its own, where no pack path can reach (pack paths stay inside the
 * pack's folder: engine/latent/manifest.ts refuses '..', empty and '.' segments), so a pack that lists a
 * file named like a marker cannot make an unfinished install look finished. A marker also counts
 * only when the folder holds manifest.json and every file it lists, at the listed size, checked
 * whenever the store lists its packs (at start-up too).
 *
 * A folder without a valid marker is an install that did not finish: it is never listed or
 * loaded, and cleanup removes it. Deleting removes the marker first, so a deletion cut short
 * leaves such a folder too. Reinstalling a pack writes a new folder and removes the old one only
 * after the new marker is written, so there is always one complete copy.
 */
import type { InstalledPack } from '../contract/pack-store-protocol.ts';

export const PACKS_DIR = 'gendr-packs';
export const MARKERS_DIR = 'gendr-pack-markers';
/** Marker of the folder `name`, a file in gendr-packs/ beside it. */
export function markerName(folder: string): string {
  return `${folder}${MARKER_SUFFIX}`;
}
const MARKER_SUFFIX = '.installed';
/** Where earlier versions kept the marker: inside the pack's folder. Read, never written. */
export const LEGACY_MARKER_FILE = 'installed.json';
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

/** The folder of install markers (beside gendr-packs/, at the OPFS root). */
export async function markersRoot(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(MARKERS_DIR, { create: true });
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

/**
 * Whether the folder holds what its manifest.json lists, each file at its listed size (the hashes
 * were checked while installing). `legacy`: the marker was found inside the folder, which only
 * counts when the pack itself does not list a file of that name.
 */
async function matchesManifest(
  folder: FileSystemDirectoryHandle,
  legacy: boolean,
): Promise<boolean> {
  const manifest = (await readJson(folder, 'manifest.json')) as {
    files?: Record<string, { bytes?: unknown }>;
  } | null;
  const files = manifest?.files;
  if (!files || typeof files !== 'object') return false;
  if (legacy && Object.hasOwn(files, LEGACY_MARKER_FILE)) return false;
  for (const [path, entry] of Object.entries(files)) {
    try {
      const file = await (await fileAt(folder, path, false)).getFile();
      if (file.size !== entry?.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Every folder under gendr-packs/, finished or not. */
export async function packFolders(root?: FileSystemDirectoryHandle): Promise<PackFolder[]> {
  const dir = root ?? (await packsRoot());
  const markers = await markersRoot();
  const folders: PackFolder[] = [];
  for await (const [name, handle] of entriesOf(dir)) {
    if (handle.kind !== 'directory') continue;
    const folder = handle as FileSystemDirectoryHandle;
    let json = await readJson(markers, markerName(name));
    let legacy = false;
    if (json === null) {
      json = await readJson(folder, LEGACY_MARKER_FILE);
      legacy = true;
    }
    const marker = isMarker(json) && (await matchesManifest(folder, legacy)) ? json : null;
    folders.push({ name, handle: folder, marker });
  }
  return folders;
}

/** Removes markers whose pack folder is gone (a removal cut short). */
export async function removeOrphanMarkers(root: FileSystemDirectoryHandle): Promise<void> {
  const names = new Set<string>();
  for await (const [name, handle] of entriesOf(root)) {
    if (handle.kind === 'directory') names.add(name);
  }
  const markers = await markersRoot();
  const orphans: string[] = [];
  for await (const [name] of entriesOf(markers)) {
    if (!names.has(name.endsWith(MARKER_SUFFIX) ? name.slice(0, -MARKER_SUFFIX.length) : name))
      orphans.push(name);
  }
  for (const name of orphans) await markers.removeEntry(name).catch(() => undefined);
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
  await (await markersRoot()).removeEntry(markerName(name)).catch(() => undefined);
  const folder = await root.getDirectoryHandle(name).catch(() => null);
  if (!folder) return;
  await folder.removeEntry(LEGACY_MARKER_FILE).catch(() => undefined);
  await root.removeEntry(name, { recursive: true });
}

/** Writes the marker that makes `name` an installed pack (the last step of an install). */
export async function writeMarker(name: string, pack: InstalledPack): Promise<void> {
  const bytes = new TextEncoder().encode(`${JSON.stringify(markerFor(pack), null, 2)}\n`);
  await writeSmallFile(await markersRoot(), markerName(name), bytes);
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
