#!/usr/bin/env node
// Runs a TypeScript entry point with tsx, so build steps and the CLI need no separate compile step.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { registerTsx } from './load-tsx.mjs';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}

await registerTsx();
process.argv = [process.argv[0], entry, ...rest];
await import(pathToFileURL(path.resolve(entry)).href);
