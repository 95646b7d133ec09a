/** The command line's output for the same job: the reference the browser must match. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../test/helpers/shared.ts';
import { scratchPath } from './images.ts';

const run = promisify(execFile);

/** Runs `gendr-web upscale <input> <out> --model <modelId>` and returns the output's path. */
export async function cliUpscale(input: string, modelId: string): Promise<string> {
  const output = scratchPath(`cli-${modelId}-${path.basename(input, path.extname(input))}.png`);
  if (fs.existsSync(output)) return output;
  await run(
    process.execPath,
    [path.join(repoRoot, 'bin/gendr-web.mjs'), 'upscale', input, output, '--model', modelId],
    {
      cwd: repoRoot,
      timeout: 180_000,
    },
  );
  return output;
}
