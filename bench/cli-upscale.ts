/**
 * Wall time of the real command line (`node bin/gendr-web.mjs upscale ...`, process start to exit:
 * startup, model load, decode, inference, encode) on chelsea.png x4 for each model family.
 *
 *   npx tsx bench/cli-upscale.ts [--threads 2] [--runs 1] [--families slim,medium,thick]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, sharedPath } from '../test/helpers/shared.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '1' },
    families: { type: 'string', default: 'slim,medium,thick' },
    scale: { type: 'string', default: '4' },
  },
});
const input = sharedPath('images', 'chelsea.png');
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-bench-')), 'out.png');
const bin = path.join(repoRoot, 'bin', 'gendr-web.mjs');
console.log(
  `chelsea.png x${values.scale}, ${values.threads} thread(s), load average ${os.loadavg()[0].toFixed(1)}`,
);
for (const family of values.families.split(',')) {
  const times: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const t = performance.now();
    execFileSync(
      process.execPath,
      [bin, 'upscale', '-q', '-m', family, '-s', values.scale, '-t', values.threads, input, out],
      { stdio: 'inherit' },
    );
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`${family.padEnd(8)} ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s`);
}
fs.rmSync(path.dirname(out), { recursive: true, force: true });
