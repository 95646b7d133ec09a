#!/usr/bin/env node
// Runs a TypeScript entry point with tsx, so build steps and the CLI need no separate compile step.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}

// A fresh clone has no node_modules: say what to run instead of printing Node's module stack.
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.error(
    'gendr-web: dependencies are not installed; run `npm ci` (or `npm install`) first.',
  );
  process.exit(1);
}
process.argv = [process.argv[0], entry, ...rest];
register();
await import(pathToFileURL(path.resolve(entry)).href);
