#!/usr/bin/env node
// The gendr-web command line: see README.md ("Command line").
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
register();
await import(new URL('../tools/cli/main.ts', import.meta.url).href);
