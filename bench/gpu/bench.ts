/**
 * `npm run bench:gpu`: a whole restore (size² → (4·size)², default 128² → 512²) through the
 * engine's latent pipeline on a chosen runtime, with per-stage times, the whole time, and parity
 * against onnxruntime-node fp32 on a small input. Builds the tiny random GenDR-shaped pack on the
 * fly (tools/builder/packs.ts).
 *
 *   --runtime node     onnxruntime-node CPU (default; the only runtime wired here)
 *   --size N           input edge in pixels (default 128)
 *   --threads N        onnxruntime-node intra-op threads (default: all cores)
 *
 * WebGPU under Node (onnxruntime-web on the npm `webgpu` Dawn binding) is not wired yet: asking
 * for it fails with that message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dirPackSource, writePack } from '../../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../../tools/builder/packs.ts';
import { createOrtNodeRuntime } from '../../tools/runtime/ort-node.ts';
import { createImage, type RgbaImage } from '../../engine/image.ts';
import { loadPack, type LoadedPack } from '../../engine/latent/pack-loader.ts';
import { runPack, type StageReport } from '../../engine/latent/pipeline.ts';
import type { EngineRuntime } from '../../engine/session.ts';

export interface GpuBenchReport {
  runtime: string;
  input: string;
  output: string;
  totalMs: number;
  stages: StageReport[];
  /** PSNR (8-bit RGB) of the runtime's output vs onnxruntime-node fp32 on a 32² input. */
  parityDb: number;
}

function testImage(size: number): RgbaImage {
  const img = createImage(size, size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      img.data[i] = (x * 255) / size;
      img.data[i + 1] = (y * 255) / size;
      img.data[i + 2] = 128 + 100 * Math.sin((x + y) / 5);
      img.data[i + 3] = 255;
    }
  return img;
}

function psnr(a: RgbaImage, b: RgbaImage): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    se += (a.data[i] - b.data[i]) ** 2;
    n++;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

async function restore(
  pack: LoadedPack,
  runtime: EngineRuntime,
  image: RgbaImage,
  stages: StageReport[] = [],
): Promise<RgbaImage> {
  return runPack(pack.sessions, pack.manifest, image, {
    tensors: runtime,
    embeddings: pack.embeddings,
    packInterface: pack.packInterface,
    onStage: (s) => stages.push(s),
  });
}

export async function runGpuBench(o: {
  runtime?: string;
  size?: number;
  threads?: number;
}): Promise<GpuBenchReport> {
  const name = o.runtime ?? 'node';
  if (name !== 'node') {
    throw new Error(
      `runtime '${name}' is not wired here: only 'node' (onnxruntime-node); WebGPU under Node needs onnxruntime-web with the npm 'webgpu' package`,
    );
  }
  const size = o.size ?? 128;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gendr-bench-gpu-'));
  try {
    await writePack(dir, tinyGendrPack());
    const runtime = createOrtNodeRuntime({ intraOpNumThreads: o.threads });
    const reference = createOrtNodeRuntime({ intraOpNumThreads: o.threads });
    const pack = await loadPack(dirPackSource(dir), runtime);
    const refPack = await loadPack(dirPackSource(dir), reference);
    try {
      const stages: StageReport[] = [];
      const start = performance.now();
      const out = await restore(pack, runtime, testImage(size), stages);
      const totalMs = performance.now() - start;
      const small = testImage(32);
      const parityDb = psnr(
        await restore(pack, runtime, small),
        await restore(refPack, reference, small),
      );
      return {
        runtime: `${name} (${runtime.backend})`,
        input: `${size}x${size}`,
        output: `${out.width}x${out.height}`,
        totalMs,
        stages,
        parityDb,
      };
    } finally {
      await pack.release();
      await refPack.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatGpuBench(r: GpuBenchReport): string {
  const lines = [`${r.runtime}: ${r.input} → ${r.output} in ${r.totalMs.toFixed(0)} ms`];
  for (const s of r.stages)
    lines.push(`  ${s.stage.padEnd(9)} ${s.ms.toFixed(0).padStart(7)} ms  ${s.runs} run(s)`);
  lines.push(
    `  parity vs onnxruntime-node fp32 (32² input): ${r.parityDb === Infinity ? '∞' : r.parityDb.toFixed(1)} dB`,
  );
  return lines.join('\n');
}
