/**
 * Where the shared test data lives: `$GENDR_SHARED`, else `../shared` next to the repository.
 * Tests that need it skip with a clear message when it is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const sharedDir = process.env.GENDR_SHARED ?? path.resolve(repoRoot, '../shared');

/** Absolute path of a file in the shared folder (which may not exist). */
export function sharedPath(...parts: string[]): string {
  return path.join(sharedDir, ...parts);
}

/** True when the shared file exists. */
export function hasShared(...parts: string[]): boolean {
  return fs.existsSync(sharedPath(...parts));
}

/** The message tests print when they skip for lack of shared data. */
export function missingShared(...parts: string[]): string {
  return `skipped: shared test data ${sharedPath(...parts)} not found (set GENDR_SHARED to the shared folder)`;
}
