/**
 * Turning what the user picked or dropped into pack files with relative paths: a folder from the
 * directory picker, an <input webkitdirectory> selection, or a drop of a folder or loose files.
 */
import type { LocalFile } from '../../../workers/contract/pack-store-protocol.ts';

/** Files from an <input type=file> (with webkitdirectory, they carry their relative paths). */
export function filesFromInput(list: FileList | null): LocalFile[] {
  return [...(list ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

interface DirectoryHandleLike {
  kind: 'directory';
  name: string;
  values(): AsyncIterable<FileHandleLike | DirectoryHandleLike>;
}
interface FileHandleLike {
  kind: 'file';
  name: string;
  getFile(): Promise<File>;
}

/** Every file under a directory handle, with paths relative to its parent (like webkitdirectory). */
export async function filesFromDirectoryHandle(
  dir: DirectoryHandleLike,
  prefix = `${dir.name}/`,
  limit = 1000,
): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for await (const entry of dir.values()) {
    if (out.length >= limit) break;
    if (entry.kind === 'file') out.push({ path: prefix + entry.name, file: await entry.getFile() });
    else out.push(...(await filesFromDirectoryHandle(entry, `${prefix}${entry.name}/`, limit)));
  }
  return out;
}

type PickerWindow = Window & {
  showDirectoryPicker?: (options?: { mode?: 'read' }) => Promise<DirectoryHandleLike>;
};

/** Whether this browser has the File System Access directory picker. */
export function hasDirectoryPicker(): boolean {
  return typeof (window as PickerWindow).showDirectoryPicker === 'function';
}

/** Opens the directory picker; null when the user cancels it. */
export async function pickDirectory(): Promise<LocalFile[] | null> {
  const picker = (window as PickerWindow).showDirectoryPicker;
  if (!picker) return null;
  try {
    return await filesFromDirectoryHandle(await picker.call(window, { mode: 'read' }));
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return null;
    throw error;
  }
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function filesFromEntry(entry: FileSystemEntry, prefix: string): Promise<LocalFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    return [{ path: prefix + entry.name, file }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: LocalFile[] = [];
  // readEntries returns at most 100 entries a call: read until it returns none.
  for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
    for (const child of batch)
      out.push(...(await filesFromEntry(child, `${prefix}${entry.name}/`)));
  }
  return out;
}

/** The files of a drop: dropped folders are walked (paths kept), loose files keep their names. */
export async function filesFromDrop(transfer: DataTransfer): Promise<LocalFile[]> {
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    const out: LocalFile[] = [];
    for (const entry of entries) out.push(...(await filesFromEntry(entry!, '')));
    return out;
  }
  return [...transfer.files].map((file) => ({ path: file.name, file }));
}
