/**
 * fp16 vs fp32 of a Real-ESRGAN built-in model on a real WebGPU adapter with shader-f16: both
 * precisions through onnxruntime-web/webgpu under Node (the npm `webgpu` Dawn binding), on a crop
 * of a shared photo, printing PSNR fp16 vs fp32 (and each vs onnxruntime-node fp32 on the CPU)
 * and the run times. What the CPU measurements (bench/real-esrgan-fp16.ts) can only estimate:
 * f16 shaders that also accumulate in f16.
 *
 *   node bin/run-ts.mjs bench/real-esrgan-fp16-gpu.ts [--model <id>]... [--photo chelsea.png]
 *       [--size 256] [--runs 3] [--models public/models] [--dawn <flag>]... [--no-cpu]
 *       [--ep webgpu|wasm]
 *
 * --model: default both realesr-general-x4v3 and realesrgan-x4plus. The fp16 model is the build's
 * <id>/model-fp16.onnx where the manifest lists one, else converted here (tools/onnx/to-fp16.ts).
 * --size: crop side in input pixels. --dawn: options for webgpu's create(),
 * e.g. --dawn backend=vulkan. --ep wasm runs the same comparison on onnxruntime-web's WASM EP
 * (a dry run of this script on a machine without a GPU; fp16 is then cast to fp32 there).
 * Exits 3 when the adapter lacks shader-f16 (nothing measured in fp16), 2 on a bad command line.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type * as OrtWeb from 'onnxruntime-web';
import * as ortNode from 'onnxruntime-node';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import { toFp16 } from '../tools/onnx/to-fp16.ts';
import {
  compareBytes,
  formatDb,
  photoCrop,
  sharedPhotosMissing,
  toBytes,
  type Crop,
} from './fp16-reference.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    photo: { type: 'string', default: 'chelsea.png' },
    size: { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    models: { type: 'string', default: path.join(repoRoot, 'public', 'models') },
    dawn: { type: 'string', multiple: true },
    'no-cpu': { type: 'boolean', default: false },
    ep: { type: 'string', default: 'webgpu' },
  },
});
const ids = values.model ?? ['realesr-general-x4v3', 'realesrgan-x4plus'];
const runs = Number(values.runs);
const size = Number(values.size);
if (!['webgpu', 'wasm'].includes(values.ep) || !(runs >= 1) || !(size >= 1)) {
  console.error('usage: --ep webgpu|wasm, --runs >= 1, --size >= 1');
  process.exit(2);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function modelFiles(
  id: string,
): Promise<{ fp32: Uint8Array; fp16: Uint8Array; from: string }> {
  const dir = path.join(values.models, id);
  const manifest = JSON.parse(
    await readFile(path.join(dir, 'manifest.json'), 'utf8'),
  ) as BuiltinModelManifest;
  const fp32 = new Uint8Array(await readFile(path.join(dir, manifest.file)));
  const variant = manifest.variants?.fp16;
  if (variant) {
    const fp16 = new Uint8Array(await readFile(path.join(dir, variant.file)));
    return { fp32, fp16, from: `${id}/${variant.file}` };
  }
  return { fp32, fp16: toFp16(fp32).bytes, from: 'converted here, not shipped' };
}

interface GpuDevice {
  features: { has(name: string): boolean };
  addEventListener(type: 'uncapturederror', fn: (e: { error?: { message: string } }) => void): void;
}

/** onnxruntime-web with WebGPU from Dawn (or WASM only), and whether f16 shaders are there. */
async function loadOrtWeb(): Promise<{
  ort: typeof OrtWeb;
  shaderF16: boolean;
  adapter: string;
  errors: string[];
}> {
  const errors: string[] = [];
  const wasmDir = `${path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/webgpu'))}/`;
  if (values.ep === 'wasm') {
    const ort = (await import('onnxruntime-web/wasm')) as unknown as typeof OrtWeb;
    ort.env.wasm.wasmPaths = wasmDir;
    ort.env.wasm.numThreads = os.availableParallelism();
    return { ort, shaderF16: false, adapter: 'none (WASM EP)', errors };
  }
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(values.dawn ?? []);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    console.error('no WebGPU adapter (Dawn options: --dawn backend=vulkan, --dawn adapter=<name>)');
    process.exit(1);
  }
  const info = adapter.info;
  const adapterText = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean)
    .join(' ');
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as typeof OrtWeb;
  ort.env.wasm.wasmPaths = wasmDir;
  ort.env.logLevel = 'error';
  ort.env.webgpu.adapter = adapter as unknown as typeof ort.env.webgpu.adapter;
  return { ort, shaderF16: adapter.features.has('shader-f16'), adapter: adapterText, errors };
}

let watched = false;

async function timed(
  ort: typeof OrtWeb,
  bytes: Uint8Array,
  crop: Crop,
  errors: string[],
): Promise<{ out: Uint8Array; ms: number; firstMs: number }> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders:
      values.ep === 'webgpu' ? [{ name: 'webgpu', preferredLayout: 'NCHW' }] : ['wasm'],
    graphOptimizationLevel: 'all',
  });
  if (values.ep === 'webgpu' && !watched) {
    // ORT makes its device with the first session: every error it reports from here is kept.
    const device = (await ort.env.webgpu.device) as unknown as GpuDevice;
    device.addEventListener('uncapturederror', (e) => errors.push(e.error?.message ?? 'unknown'));
    watched = true;
  }
  try {
    const feed = () => ({
      [session.inputNames[0]]: new ort.Tensor('float32', crop.data, [
        1,
        3,
        crop.height,
        crop.width,
      ]),
    });
    const times: number[] = [];
    let out: Uint8Array = new Uint8Array();
    let firstMs = 0;
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const result = await session.run(feed());
      const data = (await result[session.outputNames[0]].getData()) as Float32Array;
      const ms = performance.now() - t0;
      if (i === 0) firstMs = ms;
      else times.push(ms);
      out = toBytes(data);
    }
    return { out, ms: median(times), firstMs };
  } finally {
    await session.release();
  }
}

async function cpuReference(bytes: Uint8Array, crop: Crop): Promise<Uint8Array> {
  const session = await ortNode.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: os.availableParallelism(),
  });
  try {
    const input = new ortNode.Tensor('float32', crop.data, [1, 3, crop.height, crop.width]);
    const result = await session.run({ [session.inputNames[0]]: input });
    return toBytes(result[session.outputNames[0]].data as Float32Array);
  } finally {
    await session.release();
  }
}

const missing = await sharedPhotosMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}
const { ort, shaderF16, adapter, errors } = await loadOrtWeb();
console.log(`adapter: ${adapter}; shader-f16: ${shaderF16 ? 'yes' : 'no'}; EP: ${values.ep}`);
if (values.ep === 'webgpu' && !shaderF16) {
  console.log(
    'fp16 not measured: this adapter lacks shader-f16 (onnxruntime-web refuses fp16 there).',
  );
  process.exit(3);
}
const crop = await photoCrop(values.photo, size);
for (const id of ids) {
  const { fp32, fp16, from } = await modelFiles(id);
  const a = await timed(ort, fp32, crop, errors);
  const b = await timed(ort, fp16, crop, errors);
  const fp16VsFp32 = compareBytes(b.out, a.out);
  let line =
    `${id} on ${crop.name} (fp16: ${from}): fp16 vs fp32 ${formatDb(fp16VsFp32.psnr)} dB ` +
    `(max diff ${fp16VsFp32.maxDiff}/255); fp32 ${a.ms.toFixed(1)} ms, fp16 ${b.ms.toFixed(1)} ms ` +
    `(median of ${runs} after a first run of ${a.firstMs.toFixed(0)} / ${b.firstMs.toFixed(0)} ms)`;
  if (!values['no-cpu']) {
    const cpu = await cpuReference(fp32, crop);
    const g32 = compareBytes(a.out, cpu);
    const g16 = compareBytes(b.out, cpu);
    line +=
      `; vs onnxruntime-node fp32: fp32 ${formatDb(g32.psnr)} dB (max ${g32.maxDiff}), ` +
      `fp16 ${formatDb(g16.psnr)} dB (max ${g16.maxDiff})`;
  }
  console.log(line);
}
if (errors.length) {
  console.log(`WebGPU errors during the runs (results not trustworthy): ${errors.join(' | ')}`);
  process.exitCode = 1;
}
