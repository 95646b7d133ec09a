/**
 * Installing from local files: finds manifest.json among picked or dropped files and matches each
 * file the manifest lists. A picked folder keeps relative paths, so they match exactly; dropped
 * loose files only have names (several are called model.onnx), so those match by name and size.
 */
import type { LocalFile } from '../contract/pack-store-protocol.ts';
import { PackInstallError } from './errors.ts';

export type { LocalFile };

export interface FileEntryLike {
  bytes: number;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.?\/+/, '');
}

/** The manifest.json nearest the top of the picked files (null when there is none). */
export function findManifest(files: readonly LocalFile[]): LocalFile | null {
  const candidates = files
    .map((f) => ({ ...f, path: normalise(f.path) }))
    .filter((f) => basename(f.path) === 'manifest.json')
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  return candidates[0] ?? null;
}

/**
 * Each manifest path's local file. `manifestPath` is where manifest.json was found: files are
 * looked up relative to its folder first, then by name and size among all the files.
 */
export function matchPackFiles(
  manifestFiles: Readonly<Record<string, FileEntryLike>>,
  files: readonly LocalFile[],
  manifestPath: string,
): Map<string, Blob> {
  const all = files.map((f, index) => ({ ...f, path: normalise(f.path), index }));
  const root = normalise(manifestPath).slice(0, normalise(manifestPath).lastIndexOf('/') + 1);
  /** Indexes of files already matched (loose dropped files can share a path). */
  const used = new Set<number>();
  const matched = new Map<string, Blob>();
  const take = (path: string, f: (typeof all)[number]) => {
    matched.set(path, f.file);
    used.add(f.index);
  };
  // Exact paths first, so they are not taken by a same-named file elsewhere.
  for (const path of Object.keys(manifestFiles)) {
    const exact = all.find((f) => !used.has(f.index) && f.path === root + path);
    if (exact) take(path, exact);
  }
  for (const [path, entry] of Object.entries(manifestFiles)) {
    if (matched.has(path)) continue;
    const name = basename(path);
    const sameName = all.filter((f) => !used.has(f.index) && basename(f.path) === name);
    const candidates = sameName.filter((f) => f.file.size === entry.bytes);
    if (candidates.length === 0) {
      throw new PackInstallError(
        sameName.length > 0 ? 'size-mismatch' : 'missing-file',
        sameName.length > 0
          ? `${path}: no ${name} of ${entry.bytes} bytes among the files (${sameName.map((f) => `${f.path}: ${f.file.size} bytes`).join(', ')})`
          : `${path} is missing: the manifest lists it, but it is not among the files`,
        path,
      );
    }
    if (candidates.length > 1) {
      throw new PackInstallError(
        'missing-file',
        `${path}: ${candidates.length} of the files could be it (${candidates.map((f) => f.path).join(', ')}); pick or drop the pack's folder instead`,
        path,
      );
    }
    take(path, candidates[0]);
  }
  return matched;
}
