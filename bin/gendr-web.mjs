#!/usr/bin/env node
// The gendr-web command line: see README.md ("Command line").
import { registerTsx } from './load-tsx.mjs';

await registerTsx();
await import(new URL('../tools/cli/main.ts', import.meta.url).href);
