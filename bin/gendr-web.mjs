#!/usr/bin/env node
// The gendr-web command line: see README.md ("Command line").
import { register } from 'tsx/esm/api';
register();
await import(new URL('../tools/cli/main.ts', import.meta.url).href);
