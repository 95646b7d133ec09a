/**
 * `npm run bench:gpu`: a whole restore (size² → (4·size)², default 128² → 512²) through the
 * engine's latent pipeline (engine/latent/pipeline.ts runPack) on a chosen runtime, with per-stage
 * times, the whole time, the time to load the pack, GPU memory, and parity against
 * onnxruntime-node fp32 on a small input.
 *
 *   --runtime node|webgpu  onnxruntime-node CPU (default), or onnxruntime-web's WebGPU EP under
 *                          Node on Dawn (tools/runtime/ort-web-node-webgpu.ts)
 *   --pack <dir>           a built pack (default: the tiny random GenDR-shaped pack, built here)
 *   --ref-pack <dir>       the fp32 pack parity runs against when --pack is fp16 (default: parity
 *                          against --pack itself on onnxruntime-node)
 *   --preset gendr --random [--dtype fp16|fp32] [--cache <dir>]
 *                          the full-size random pack of the preset (tools/cli/commands/pack.ts,
 *                          `gendr-web pack --random`), built into --cache (default
 *                          <tmp>/gendr-bench-gpu) or taken from there when already built; for an
 *                          fp16 pack its fp32 twin (same seed, same weights) is built too, for
 *                          parity
 *   --size N               input edge in pixels (default 128)
 *   --runs N               timed restores (default 1); with 2 or more the first is a warm-up
 *                          (WebGPU compiles its pipelines there) and the stages are the last run's
 *   --parity-size N        input edge of the parity restore (default 32; 0: no parity)
 *   --threads N            onnxruntime-node intra-op threads (default: all cores)
 *
 * Why Dawn in Node rather than a headless browser: the GPU machine this is meant for has a
 * Vulkan driver and no browser, and takes at most 64 MiB of files with the working tree; a
 * Chromium is several times that, while dawn.node (21 MB) plus onnxruntime-web's WebGPU files
 * fit (docs/gpu-check.md lists what travels). The graphs, the EP and the engine code are the
 * app's; only the WebGPU implementation (Dawn, which Chromium uses too) is hosted differently.
 *
 * GPU memory on WebGPU is the peak of live GPUBuffer bytes (tracked on Dawn's createBuffer and
 * destroy: see tools/runtime/ort-web-node-webgpu.ts); bench/gpu/device-check.sh also samples
 * nvidia-smi where there is one.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dirPackSource, writePack } from '../../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../../tools/builder/packs.ts';
import { packCommand } from '../../tools/cli/commands/pack.ts';
import { createOrtNodeRuntime } from '../../tools/runtime/ort-node.ts';
import {
  createNodeWebGpu,
  type GpuBufferMemory,
  type NodeWebGpuAdapter,
} from '../../tools/runtime/ort-web-node-webgpu.ts';
import { createImage, type RgbaImage } from '../../engine/image.ts';
import { loadPack, type LoadedPack } from '../../engine/latent/pack-loader.ts';
import { runPack, type StageReport } from '../../engine/latent/pipeline.ts';
import type { EngineRuntime } from '../../engine/session.ts';

export type BenchRuntime = 'node' | 'webgpu';

export interface GpuBenchOptions {
  runtime?: string;
  size?: number;
  threads?: number;
  /** A built pack folder (default: the tiny random pack). */
  pack?: string;
  /** The fp32 pack that parity runs against (default: `pack` itself on onnxruntime-node). */
  refPack?: string;
  /** Build (or reuse from `cache`) the full-size random pack of this preset. */
  preset?: string;
  random?: boolean;
  dtype?: 'fp16' | 'fp32';
  cache?: string;
  runs?: number;
  paritySize?: number;
  /** Progress lines (pack building and loading); default: none. */
  log?: (line: string) => void;
}

export interface GpuBenchReport {
  runtime: string;
  pack: string;
  precision: string;
  input: string;
  output: string;
  /** Seconds to read, check and create the pack's sessions on the runtime. */
  loadMs: number;
  /** Every timed restore, in order (the first is the cold one). */
  runsMs: number[];
  /** The last restore's. */
  totalMs: number;
  stages: StageReport[];
  /** Where the runtime is WebGPU: the adapter and the GPUBuffer bytes. */
  gpu?: {
    adapter: NodeWebGpuAdapter;
    ortVersion: string;
    /** Live GPUBuffer bytes once the pack was loaded (weights and ORT's pools). */
    afterLoadBytes: number;
    /** Peak live GPUBuffer bytes over loading and every restore. */
    peakBytes: number;
    buffersCreated: number;
  };
  /** PSNR (8-bit RGB) of the runtime's output vs onnxruntime-node fp32 on a paritySize² input. */
  parityDb?: number;
  /** The PSNR the precision should reach (50 dB fp32, 30 dB fp16). */
  parityFloorDb?: number;
  paritySize?: number;
  parityReference?: string;
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

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The full-size random pack of a preset in `cache`, built there by `gendr-web pack` if absent. */
async function randomPack(
  preset: string,
  dtype: 'fp16' | 'fp32',
  cache: string,
  log: (line: string) => void,
): Promise<string> {
  const dir = path.join(cache, `${preset}-random-${dtype}`);
  if (await exists(path.join(dir, 'manifest.json'))) {
    log(`pack: ${dir} (cached)`);
    return dir;
  }
  log(`pack: building ${dir} (gendr-web pack --preset ${preset} --random --dtype ${dtype})`);
  const start = performance.now();
  const stderr = {
    isTTY: false,
    write: (chunk: string | Uint8Array) => {
      log(`  ${String(chunk).trimEnd()}`);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const code = await packCommand.run(
    ['--preset', preset, '--random', '--dtype', dtype, '--out', dir],
    { stdout: process.stdout, stderr },
  );
  if (code !== 0) throw new Error(`gendr-web pack exited with ${code}`);
  log(`pack: built in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return dir;
}

async function runtimeFor(name: BenchRuntime, threads: number | undefined) {
  if (name === 'node') {
    return { runtime: createOrtNodeRuntime({ intraOpNumThreads: threads }), webgpu: undefined };
  }
  const webgpu = await createNodeWebGpu();
  return { runtime: webgpu.runtime, webgpu };
}

function gpuReport(
  webgpu: { adapter: NodeWebGpuAdapter; ortVersion: string; memory: GpuBufferMemory },
  afterLoadBytes: number,
): NonNullable<GpuBenchReport['gpu']> {
  return {
    adapter: webgpu.adapter,
    ortVersion: webgpu.ortVersion,
    afterLoadBytes,
    peakBytes: webgpu.memory.peakBytes,
    buffersCreated: webgpu.memory.buffersCreated,
  };
}

export async function runGpuBench(o: GpuBenchOptions): Promise<GpuBenchReport> {
  const name = o.runtime ?? 'node';
  if (name !== 'node' && name !== 'webgpu') {
    throw new Error(
      `runtime '${name}' is not wired here: 'node' (onnxruntime-node) or 'webgpu' (onnxruntime-web on Dawn)`,
    );
  }
  const log = o.log ?? (() => {});
  const size = o.size ?? 128;
  const runs = o.runs ?? 1;
  const paritySize = o.paritySize ?? 32;
  if (o.preset && !o.random) {
    throw new Error('--preset needs --random (real weights: build the pack, then --pack <dir>)');
  }
  const temp = await mkdtemp(path.join(os.tmpdir(), 'gendr-bench-gpu-'));
  try {
    let dir: string;
    let refDir: string | undefined = o.refPack;
    if (o.pack) dir = o.pack;
    else if (o.preset) {
      const cache = o.cache ?? path.join(os.tmpdir(), 'gendr-bench-gpu');
      const dtype = o.dtype ?? 'fp16';
      dir = await randomPack(o.preset, dtype, cache, log);
      if (dtype === 'fp16' && paritySize > 0 && !refDir) {
        refDir = await randomPack(o.preset, 'fp32', cache, log);
      }
    } else {
      dir = path.join(temp, 'tiny');
      await writePack(dir, tinyGendrPack({ precision: o.dtype ?? 'fp32' }));
    }

    const { runtime, webgpu } = await runtimeFor(name, o.threads);
    const loadStart = performance.now();
    const pack = await loadPack(dirPackSource(dir), runtime, { shaderF16: webgpu?.shaderF16 });
    const loadMs = performance.now() - loadStart;
    const afterLoadBytes = webgpu?.memory.liveBytes ?? 0;
    log(`loaded ${pack.manifest.id} (${pack.manifest.precision}) in ${loadMs.toFixed(0)} ms`);
    try {
      let stages: StageReport[] = [];
      const runsMs: number[] = [];
      let out: RgbaImage | undefined;
      const input = testImage(size);
      for (let r = 0; r < runs; r++) {
        stages = [];
        const start = performance.now();
        out = await restore(pack, runtime, input, stages);
        runsMs.push(performance.now() - start);
        log(`restore ${r + 1}/${runs}: ${runsMs[r].toFixed(0)} ms`);
      }
      const report: GpuBenchReport = {
        runtime: `${name} (${runtime.backend})`,
        pack: pack.manifest.id,
        precision: pack.manifest.precision,
        input: `${size}x${size}`,
        output: `${out!.width}x${out!.height}`,
        loadMs,
        runsMs,
        totalMs: runsMs[runsMs.length - 1],
        stages,
      };
      if (paritySize > 0) {
        const small = testImage(paritySize);
        const mine = await restore(pack, runtime, small);
        if (webgpu) report.gpu = gpuReport(webgpu, afterLoadBytes);
        const fp32 = pack.manifest.precision === 'fp32';
        // The reference is loaded after the runtime's pack is done with, so both never share RAM.
        await pack.release();
        const reference = createOrtNodeRuntime({ intraOpNumThreads: o.threads });
        const refSource = refDir ?? dir;
        const refPack = await loadPack(dirPackSource(refSource), reference);
        try {
          report.parityDb = psnr(mine, await restore(refPack, reference, small));
          report.parityReference = `onnxruntime-node cpu, ${refPack.manifest.id} (${refPack.manifest.precision})`;
        } finally {
          await refPack.release();
        }
        report.paritySize = paritySize;
        report.parityFloorDb = fp32 ? 50 : 30;
      } else {
        if (webgpu) report.gpu = gpuReport(webgpu, afterLoadBytes);
        await pack.release();
      }
      return report;
    } catch (e) {
      await pack.release().catch(() => {});
      throw e;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const MiB = 1024 * 1024;

export function formatGpuBench(r: GpuBenchReport): string {
  const lines = [
    `${r.runtime}, pack ${r.pack} (${r.precision}): ${r.input} → ${r.output} in ${r.totalMs.toFixed(0)} ms` +
      (r.runsMs.length > 1 ? ` (runs: ${r.runsMs.map((t) => t.toFixed(0)).join(', ')} ms)` : ''),
    `  load      ${r.loadMs.toFixed(0).padStart(7)} ms  (read, sha256, create sessions)`,
  ];
  for (const s of r.stages) {
    const per = s.runs > 1 ? `, ${(s.ms / s.runs).toFixed(0)} ms per run` : '';
    lines.push(`  ${s.stage.padEnd(9)} ${s.ms.toFixed(0).padStart(7)} ms  ${s.runs} run(s)${per}`);
  }
  if (r.gpu) {
    const a = r.gpu.adapter;
    lines.push(
      `  adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}` +
        `${a.isFallbackAdapter ? ' (fallback adapter)' : ''}; onnxruntime-web ${r.gpu.ortVersion}`,
      `  features: ${a.features.join(', ') || '(none)'}`,
      `  limits: maxBufferSize ${(a.limits.maxBufferSize / MiB).toFixed(0)} MiB, ` +
        `maxStorageBufferBindingSize ${(a.limits.maxStorageBufferBindingSize / MiB).toFixed(0)} MiB, ` +
        `maxStorageBuffersPerShaderStage ${a.limits.maxStorageBuffersPerShaderStage}`,
      `  GPU buffers: ${(r.gpu.afterLoadBytes / MiB).toFixed(1)} MiB live after load, ` +
        `${(r.gpu.peakBytes / MiB).toFixed(1)} MiB peak, ${r.gpu.buffersCreated} created`,
    );
  }
  if (r.parityDb !== undefined) {
    const db = r.parityDb === Infinity ? '∞' : r.parityDb.toFixed(1);
    const ok = r.parityDb >= (r.parityFloorDb ?? 0) ? 'ok' : 'BELOW';
    lines.push(
      `  parity vs ${r.parityReference} (${r.paritySize}² input): ${db} dB (${ok}: floor ${r.parityFloorDb} dB)`,
    );
  }
  return lines.join('\n');
}
