/**
 * The commands of the gendr-web command line, in the order `--help` lists them.
 * To add one: write tools/cli/commands/<name>.ts exporting a CliCommand, and list it here.
 */
import type { CliCommand } from '../command.ts';
import { convertCommand } from './convert.ts';
import { modelsCommand } from './models.ts';
import { packCommand } from './pack.ts';
import { upscaleCommand } from './upscale.ts';

export const commands: readonly CliCommand[] = [
  upscaleCommand,
  modelsCommand,
  convertCommand,
  packCommand,
];
