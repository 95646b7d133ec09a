/**
 * `npm run bench:gpu` entry point: see bench.ts for what it measures and its options
 * (--runtime node, --size N, --threads N).
 */
import { parseArgs } from 'node:util';
import { formatGpuBench, runGpuBench } from './bench.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'node' },
      size: { type: 'string', default: '128' },
      threads: { type: 'string' },
    },
  });
  const report = await runGpuBench({
    runtime: values.runtime,
    size: Number(values.size),
    threads: values.threads ? Number(values.threads) : undefined,
  });
  console.log(formatGpuBench(report));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
