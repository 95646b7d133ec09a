/**
 * Packs as folders on disk: writing one (files, sizes and sha256 in a validated manifest) and
 * reading one as a PackSource for loadPack.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  parsePackManifest,
  type PackManifest,
  type PackManifestInput,
} from '../../engine/latent/manifest.ts';
import { PackFileError, type PackSource } from '../../engine/latent/pack-loader.ts';

/** A pack in memory: manifest fields without `files`, and the files by pack-relative path. */
export interface PackContent {
  manifest: Omit<PackManifestInput, 'files'>;
  files: Record<string, Uint8Array>;
  /** Graph path → its ONNX external-data files (pack paths), for graphs that have them. */
  externalData?: Record<string, string[]>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The validated manifest for a pack's content (files listed with size and hash). */
export function manifestFor(content: PackContent): PackManifest {
  const files = Object.fromEntries(
    Object.entries(content.files)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, bytes]) => {
        const entry = { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
        const data = content.externalData?.[p];
        return [p, data?.length ? { ...entry, externalData: data } : entry];
      }),
  );
  return parsePackManifest({ ...content.manifest, files }, 'generated manifest');
}

/** Writes the pack's files and manifest.json into `dir` (created if needed). */
export async function writePack(dir: string, content: PackContent): Promise<PackManifest> {
  const manifest = manifestFor(content);
  for (const [rel, bytes] of Object.entries(content.files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
  await writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** A pack folder as a PackSource. */
export function dirPackSource(dir: string): PackSource {
  const root = path.resolve(dir);
  return {
    label: `${root}${path.sep}`,
    async read(rel: string): Promise<Uint8Array> {
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep))
        throw new PackFileError(`${rel}: outside the pack folder`);
      try {
        const buf = await readFile(file);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        throw new PackFileError(`${file}: ${(e as Error).message}`);
      }
    },
  };
}

/** Reads a pack folder back into memory (for adding components to an existing pack). */
export async function readPackDir(dir: string): Promise<PackContent> {
  const source = dirPackSource(dir);
  const raw = JSON.parse(
    new TextDecoder().decode(await source.read('manifest.json')),
  ) as PackManifestInput;
  const m = parsePackManifest(raw, path.join(dir, 'manifest.json'));
  const files: Record<string, Uint8Array> = {};
  const externalData: Record<string, string[]> = {};
  for (const [rel, entry] of Object.entries(m.files)) {
    files[rel] = await source.read(rel);
    if (entry.externalData) externalData[rel] = entry.externalData;
  }
  const { files: _files, ...rest } = m;
  return { manifest: rest, files, externalData };
}
