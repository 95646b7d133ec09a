/**
 * The build stamp: what the generated models in public/models were made from. The build step
 * redoes a model when the stamp's key (source package versions + a hash of the converter's
 * source files) changes, or when that model's files are missing or do not match.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export const STAMP_FILE = '.build-stamp.json';

export interface BuildStamp {
  /** Hash of the source package versions and the converter sources. */
  key: string;
  /** sha256 of each model written under this key. */
  models: Record<string, string>;
}

/** Folders (relative to the repository root) whose .ts files make up the converter. */
export const CONVERTER_SOURCES = ['tools/esrgan', 'tools/ncnn', 'tools/onnx', 'tools/models'];

export async function stampKey(
  repoRoot: string,
  packageVersions: Record<string, string>,
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(Object.entries(packageVersions).sort()));
  for (const dir of CONVERTER_SOURCES) {
    const files = (await readdir(path.join(repoRoot, dir))).filter((f) => f.endsWith('.ts')).sort();
    for (const file of files) {
      hash.update(`\0${dir}/${file}\0`);
      hash.update(await readFile(path.join(repoRoot, dir, file)));
    }
  }
  return hash.digest('hex');
}

export async function readStamp(file: string): Promise<BuildStamp | null> {
  try {
    const stamp = JSON.parse(await readFile(file, 'utf8')) as BuildStamp;
    return typeof stamp.key === 'string' && stamp.models ? stamp : null;
  } catch {
    return null;
  }
}
