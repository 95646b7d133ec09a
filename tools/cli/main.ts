/**
 * The gendr-web command line (entry behind bin/gendr-web.mjs): dispatches to the commands
 * registered in tools/cli/commands/index.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './builtin-models.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './command.ts';
import { commands } from './commands/index.ts';
import { UsageError } from './usage-error.ts';

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: gendr-web <command> [options]

GenDR Web on the command line: photo super-resolution with the built-in models, on the CPU.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show this help (or \`gendr-web <command> --help\`)
  -v, --version  print the version

Examples:
  gendr-web upscale photo.jpg photo@4x.png
  gendr-web models
`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(globalHelp());
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help') {
    io.stdout.write(globalHelp());
    return EXIT_OK;
  }
  if (name === '-v' || name === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    io.stdout.write(target ? target.help : globalHelp());
    return rest[0] === undefined || target ? EXIT_OK : EXIT_USAGE;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) {
      throw new UsageError(
        name.startsWith('-')
          ? `unknown option '${name}'`
          : `unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`,
      );
    }
    return await command.run(rest, io);
  } catch (err) {
    const prefix = command ? `gendr-web ${command.name}` : 'gendr-web';
    if (err instanceof UsageError) {
      io.stderr.write(`${prefix}: ${err.message}\nRun '${prefix} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof Error && err.name === 'AbortError') {
      io.stderr.write(`${prefix}: interrupted\n`);
      return 130;
    }
    io.stderr.write(`${prefix}: error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
