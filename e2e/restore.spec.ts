/**
 * End-to-end: the built app in Debian's Chromium, served by the production server (tools/serve.ts).
 * Real worker, real onnxruntime-web (WASM threads and WebGPU on SwiftShader), real models.
 */
import { expect, test } from '@playwright/test';
import {
  chooseBackend,
  chooseModel,
  download,
  dropFile,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import { maxChannelDiff, photoPath, readRgba, smallPhotoPath } from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';

const MODEL = 'esrgan-medium-x4';

declare global {
  interface Window {
    __gendr: {
      phase: string | null;
      backend: string | null;
      threads: number | null;
      tileUpdates: number;
      tileLog: { done: number; total: number; at: number }[];
      startedAt: number | null;
      finishedAt: number | null;
      crossOriginIsolatedWorker: boolean | null;
    };
    __longTasks: { start: number; duration: number }[];
  }
}

test('a dropped photo is restored x4 on WASM and matches the command line within 2/255', async ({
  page,
}) => {
  const { file: input, generated } = await photoPath();
  test.info().annotations.push({
    type: 'input',
    description: generated ? 'generated 451x300 photo' : input,
  });
  const reference = cliUpscale(input, MODEL);

  await openApp(page);
  await chooseModel(page, 'esrgan-medium', 4);
  await chooseBackend(page, 'wasm');
  await dropFile(page, input);
  await waitForResult(page);

  await expect(page.getByTestId('result-size')).toHaveText('1804x1200');
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');

  const { file, suggested } = await download(page, 'chelsea-wasm.png');
  expect(suggested).toBe('chelsea@4x.png');
  const result = await readRgba(file);
  expect([result.width, result.height]).toEqual([1804, 1200]);
  const expected = await readRgba(await reference);
  expect(maxChannelDiff(result, expected)).toBeLessThanOrEqual(2);
});

test('WebGPU restores a 48x48 image like WASM does and the UI says WebGPU ran', async ({
  page,
}) => {
  const input = await smallPhotoPath();
  await openApp(page);
  await chooseModel(page, 'esrgan-medium', 4);

  await chooseBackend(page, 'wasm');
  await openFile(page, input);
  await waitForResult(page);
  const wasm = await readRgba((await download(page, 'small-wasm.png')).file);

  await chooseBackend(page, 'webgpu');
  await page.getByTestId('restore-button').click();
  await waitForResult(page);
  await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'webgpu');
  await expect(page.getByTestId('backend-used')).toHaveText('WebGPU');
  await expect(page.getByTestId('notice')).toHaveCount(0);
  const webgpu = await readRgba((await download(page, 'small-webgpu.png')).file);

  expect([webgpu.width, webgpu.height]).toEqual([192, 192]);
  expect(maxChannelDiff(webgpu, wasm)).toBeLessThanOrEqual(2);
});

test('tiles stream into the output canvas before the restore completes', async ({ page }) => {
  const { file: input } = await photoPath();
  await openApp(page);
  await chooseBackend(page, 'wasm');
  await dropFile(page, input);

  // While still restoring, two tiles have been painted and the last tile's area is still empty.
  await page.waitForFunction(
    () => {
      const hook = window.__gendr;
      if (hook.phase !== 'restoring' || hook.tileUpdates < 2) return false;
      const canvas = document.querySelector<HTMLCanvasElement>(
        '[data-testid="output-layer"] canvas',
      );
      const context = canvas?.getContext('2d');
      if (!canvas || !context) return false;
      const first = context.getImageData(0, 0, 1, 1).data[3];
      const last = context.getImageData(canvas.width - 1, canvas.height - 1, 1, 1).data[3];
      return first === 255 && last === 0;
    },
    null,
    { polling: 50, timeout: 180_000 },
  );
  await waitForResult(page);

  const { log, finishedAt } = await page.evaluate(() => ({
    log: window.__gendr.tileLog,
    finishedAt: window.__gendr.finishedAt,
  }));
  const partial = log.filter((t) => t.done < t.total && finishedAt !== null && t.at < finishedAt);
  expect(partial.length).toBeGreaterThanOrEqual(2);
  expect(log.at(-1)?.done).toBe(log.at(-1)?.total);
});

test('Cancel stops a restore, and the next restore succeeds', async ({ page }) => {
  const { file: input } = await photoPath();
  await openApp(page);
  await chooseBackend(page, 'wasm');
  await dropFile(page, input);

  await page.waitForFunction(
    () => window.__gendr.phase === 'restoring' && window.__gendr.tileUpdates >= 1,
    null,
    {
      timeout: 180_000,
    },
  );
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-phase', 'cancelled');
  const tiles = await page.evaluate(() => window.__gendr.tileLog);
  expect(tiles.at(-1)!.done).toBeLessThan(tiles.at(-1)!.total);

  const restore = page.getByTestId('restore-button');
  await expect(restore).toBeEnabled();
  await restore.click();
  await waitForResult(page);
  await expect(page.getByTestId('result-size')).toHaveText('1804x1200');
  await expect(page.getByTestId('download-button')).toBeEnabled();
});

test('page and worker are cross-origin isolated and WASM runs on more than one thread', async ({
  page,
}) => {
  const ortThreads: string[] = [];
  const kernelThreads: string[] = [];
  page.on('worker', (worker) => {
    if (worker.url().includes('/ort/ort-wasm-simd-threaded')) ortThreads.push(worker.url());
    if (worker.url().includes('kernel-helper.worker')) kernelThreads.push(worker.url());
  });
  await openApp(page);
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await expect.poll(() => page.evaluate(() => window.__gendr.crossOriginIsolatedWorker)).toBe(true);

  // A classic model: the hand-written kernels run it (Real-ESRGAN runs on onnxruntime-web).
  await chooseModel(page, 'esrgan-medium', 4);
  await chooseBackend(page, 'wasm');
  await openFile(page, await smallPhotoPath());
  await waitForResult(page);
  const threads = await page.evaluate(() => window.__gendr.threads);
  expect(threads).toBeGreaterThan(1);
  await expect(page.getByTestId('backend-used')).toHaveText(
    `WASM · fast kernels · ${threads} threads`,
  );
  // The kernels start one helper thread per thread beyond the first, and never load onnxruntime.
  expect(kernelThreads).toHaveLength((threads ?? 0) - 1);
  expect(ortThreads).toHaveLength(0);

  await page.getByTestId('cpu-engine').selectOption('onnxruntime');
  await page.getByTestId('restore-button').click();
  await waitForResult(page);
  await expect(page.getByTestId('backend-used')).toHaveText(
    `WASM · onnxruntime · ${threads} threads`,
  );
  // onnxruntime-web starts one extra worker per thread beyond the first.
  expect(ortThreads.length).toBeGreaterThanOrEqual(1);
});

test('no main-thread task longer than 100 ms during a restore', async ({ page }) => {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const { file: input } = await photoPath();
  await openApp(page);
  await chooseBackend(page, 'wasm');
  await dropFile(page, input);
  await waitForResult(page);

  const { tasks, startedAt, finishedAt } = await page.evaluate(() => ({
    tasks: window.__longTasks,
    startedAt: window.__gendr.startedAt,
    finishedAt: window.__gendr.finishedAt,
  }));
  expect(startedAt).not.toBeNull();
  const during = tasks.filter((t) => t.start + t.duration >= startedAt! && t.start <= finishedAt!);
  expect(during.filter((t) => t.duration > 100)).toEqual([]);
});
