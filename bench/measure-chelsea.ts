/**
 * Times chelsea.png (or the image given) x4 with esrgan-medium in Chromium on WASM (the built app,
 * production server), with each CPU engine, next to the command line's time for the same job.
 * Not a test: run it on a quiet machine with
 *   npm run build && npx tsx bench/measure-chelsea.ts [runs] [image]
 * (GENDR_DIST picks another build folder.) Browser numbers are the engine time the app reports
 * (model already loaded after the first run).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from '@playwright/test';
import { repoRoot } from '../test/helpers/shared.ts';
import { createStaticServer } from '../tools/serve.ts';
import { photoPath, scratchPath } from '../e2e/helpers/images.ts';

const runs = Number(process.argv[2] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { file: input, generated } = process.argv[3]
  ? { file: path.resolve(process.argv[3]), generated: false }
  : await photoPath();
const server = createStaticServer({ root: process.env.GENDR_DIST ?? path.join(repoRoot, 'dist') });
await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
const port = (server.address() as { port: number }).port;
console.log(
  `input ${generated ? 'generated 451x300 photo' : input}; load average ${os.loadavg()[0].toFixed(2)}`,
);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
const page = await browser.newPage();
await page.goto(`http://localhost:${port}/`);
await page.getByTestId('backend-option-wasm').check();
await page.getByTestId('file-input').setInputFiles(input);
// Opening a file starts a restore: let it finish first.
await page.waitForFunction(
  () => (window as unknown as { __gendr: { phase: string } }).__gendr.phase === 'done',
  null,
  { timeout: 300_000 },
);
const browserMs: Record<string, number[]> = { kernels: [], onnxruntime: [] };
for (const engine of ['kernels', 'onnxruntime']) {
  await page.getByTestId('cpu-engine').selectOption(engine);
  // The first run loads the model (and, for onnxruntime, the runtime): not counted.
  for (let i = 0; i <= runs; i++) {
    await page.getByTestId('restore-button').click();
    await page.waitForFunction(
      () => (window as unknown as { __gendr: { phase: string } }).__gendr.phase === 'done',
      null,
      { timeout: 300_000 },
    );
    const { runMs, threads, cpuEngine } = await page.evaluate(
      () =>
        (
          window as unknown as {
            __gendr: { runMs: number; threads: number; cpuEngine: string };
          }
        ).__gendr,
    );
    if (cpuEngine !== engine) throw new Error(`asked for ${engine}, ran ${cpuEngine}`);
    if (i > 0) browserMs[engine].push(runMs);
    console.log(
      `browser ${engine} run ${i}: ${Math.round(runMs)} ms (WASM, ${threads} threads)${i ? '' : ', warm-up'}`,
    );
  }
}
await browser.close();
server.close();

const cliMs: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  await promisify(execFile)(process.execPath, [
    path.join(repoRoot, 'bin/gendr-web.mjs'),
    'upscale',
    input,
    scratchPath(`measure-cli-${i}.png`),
    '--model',
    'esrgan-medium-x4',
  ]);
  cliMs.push(performance.now() - start);
  console.log(`cli run ${i + 1}: ${Math.round(cliMs.at(-1)!)} ms (whole process)`);
}
console.log(
  `median: Chromium WASM kernels ${Math.round(median(browserMs.kernels))} ms, onnxruntime-web ${Math.round(median(browserMs.onnxruntime))} ms (engine time), CLI ${Math.round(median(cliMs))} ms (process)`,
);
