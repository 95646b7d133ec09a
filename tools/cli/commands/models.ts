/** `gendr-web models`: lists the built-in models. */
import { parseCommandArgs } from '../args.ts';
import { defaultModelsDir, loadModelIndex } from '../builtin-models.ts';
import { EXIT_OK, type CliCommand, type CliIo } from '../command.ts';
import { UsageError } from '../usage-error.ts';

const HELP = `Usage: gendr-web models [options]

Lists the built-in models (from ${defaultModelsDir}/index.json):
id, scale, size of the ONNX file and a description. The default model is marked with *.

Options:
      --json   print the model index as JSON
  -h, --help   show this help
`;

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'list the built-in models',
  help: HELP,
  run,
};

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const index = await loadModelIndex();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(index, null, 2)}\n`);
    return EXIT_OK;
  }
  const rows = index.models.map((m) => [
    `${m.id === index.default ? '*' : ' '} ${m.id}`,
    `x${m.scale}`,
    megabytes(m.bytes),
    m.description,
  ]);
  const header = ['  id', 'scale', 'size', 'description'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) =>
        c === 3 ? cell : c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]),
      )
      .join('  ')
      .trimEnd();
  io.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
  return EXIT_OK;
}
