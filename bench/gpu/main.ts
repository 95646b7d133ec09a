/**
 * `npm run bench:gpu` entry point: see bench.ts for what it measures and its options, and
 * docs/gpu-check.md for the run on a GPU machine (bench/gpu/device-check.sh).
 */
import { parseArgs } from 'node:util';
import { formatGpuBench, runGpuBench } from './bench.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'node' },
      size: { type: 'string', default: '128' },
      threads: { type: 'string' },
      pack: { type: 'string' },
      'ref-pack': { type: 'string' },
      preset: { type: 'string' },
      random: { type: 'boolean', default: false },
      dtype: { type: 'string' },
      cache: { type: 'string' },
      runs: { type: 'string', default: '1' },
      'parity-size': { type: 'string', default: '32' },
      json: { type: 'string' },
    },
  });
  if (values.dtype !== undefined && values.dtype !== 'fp16' && values.dtype !== 'fp32') {
    throw new Error(`--dtype must be fp16 or fp32, got '${values.dtype}'`);
  }
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const report = await runGpuBench({
    runtime: values.runtime,
    size: int('size', values.size, 8),
    threads: values.threads ? int('threads', values.threads, 1) : undefined,
    pack: values.pack,
    refPack: values['ref-pack'],
    preset: values.preset,
    random: values.random,
    dtype: values.dtype,
    cache: values.cache,
    runs: int('runs', values.runs, 1),
    paritySize: int('parity-size', values['parity-size'], 0),
    log: (line) => console.error(line),
  });
  console.log(formatGpuBench(report));
  if (values.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
