/**
 * fp16 vs fp32 for the Real-ESRGAN built-in models, on the CPU (no GPU with shader-f16 needed):
 *
 *  1. what onnxruntime-node's CPU EP does with the fp16 model (session profiling: the element
 *     types each kernel ran with), and its output vs fp32 on photo crops;
 *  2. fp16 storage, fp32 arithmetic: the fp32 model with every weight and every activation
 *     rounded to half (explicit Casts, bench/fp16-reference.ts), on onnxruntime-node;
 *  3. f16 accumulation (what an f16 GPU shader does): the plain-JS reference with every partial
 *     sum rounded to half, vs the same reference in fp32, on small crops: 32² for the compact
 *     model; RRDBNet costs 15x as much per pixel, so only on request (--x4plus-js-size 16: a
 *     few minutes per crop here, and a crop far smaller than its receptive field).
 *
 * PSNR is over RGB 0..255 of the 8-bit outputs, per crop from the middle of a shared photo.
 *
 *   node bin/run-ts.mjs bench/real-esrgan-fp16.ts [--models public/models] [--model <id>]...
 *       [--size 128] [--x4plus-size 64] [--js-size 32] [--x4plus-js-size 0] [--threads N]
 *       [--no-js]
 *
 * --models is a folder built by tools/models/build-models.ts; the fp16 model is <id>/model-fp16.onnx
 * where the build wrote one, else converted here (tools/onnx/to-fp16.ts).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { BuiltinModelManifest } from '../engine/models/builtin-manifest.ts';
import { toFp16 } from '../tools/onnx/to-fp16.ts';
import {
  compareBytes,
  formatDb,
  FP16_PHOTOS,
  halfStorageModel,
  photoCrop,
  runReference,
  sharedPhotosMissing,
  toBytes,
  type Crop,
} from './fp16-reference.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: path.join(repoRoot, 'public', 'models') },
    model: { type: 'string', multiple: true },
    size: { type: 'string', default: '128' },
    'x4plus-size': { type: 'string', default: '64' },
    'js-size': { type: 'string', default: '32' },
    'x4plus-js-size': { type: 'string', default: '0' },
    threads: { type: 'string' },
    'no-js': { type: 'boolean', default: false },
  },
});
const ids = values.model ?? ['realesr-general-x4v3', 'realesrgan-x4plus'];
const threads = values.threads ? Number(values.threads) : os.availableParallelism();

async function modelBytes(
  id: string,
): Promise<{ fp32: Uint8Array; fp16: Uint8Array; from: string }> {
  const dir = path.join(values.models, id);
  const manifest = JSON.parse(
    await readFile(path.join(dir, 'manifest.json'), 'utf8'),
  ) as BuiltinModelManifest;
  const fp32 = new Uint8Array(await readFile(path.join(dir, manifest.file)));
  const variant = manifest.variants?.fp16;
  if (variant) {
    return {
      fp32,
      fp16: new Uint8Array(await readFile(path.join(dir, variant.file))),
      from: variant.file,
    };
  }
  return { fp32, fp16: toFp16(fp32).bytes, from: 'converted here' };
}

async function session(bytes: Uint8Array, profile?: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    ...(profile ? { enableProfiling: true, profileFilePrefix: profile } : {}),
  });
}

async function run(s: ort.InferenceSession, crop: Crop): Promise<{ out: Uint8Array; ms: number }> {
  const input = new ort.Tensor('float32', crop.data, [1, 3, crop.height, crop.width]);
  const t0 = performance.now();
  const result = await s.run({ [s.inputNames[0]]: input });
  const ms = performance.now() - t0;
  return { out: toBytes(result[s.outputNames[0]].data as Float32Array), ms };
}

/** The element types each kernel of `bytes` ran with on the CPU EP, counted by kernel. */
async function kernelTypes(bytes: Uint8Array, crop: Crop): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gendr-fp16-profile-'));
  try {
    const s = await session(bytes, path.join(dir, 'profile'));
    await run(s, crop);
    s.endProfiling();
    await s.release();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    type Event = {
      cat: string;
      name: string;
      args?: {
        op_name?: string;
        input_type_shape?: Record<string, unknown>[];
        output_type_shape?: Record<string, unknown>[];
      };
    };
    const events = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Event[];
    const types = (list: Record<string, unknown>[] = []): string =>
      list.map((t) => Object.keys(t)[0]).join(',');
    const counts: Record<string, number> = {};
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args) continue;
      const key = `${e.args.op_name} (${types(e.args.input_type_shape)} -> ${types(e.args.output_type_shape)})`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const missing = await sharedPhotosMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}
console.log(`onnxruntime-node ${ort.env.versions.node ?? ''}, ${threads} thread(s)`);
for (const id of ids) {
  const { fp32, fp16, from } = await modelBytes(id);
  const compact = !id.includes('x4plus');
  const size = Number(compact ? values.size : values['x4plus-size']);
  console.log(
    `\n${id}: fp32 ${(fp32.length / 1e6).toFixed(1)} MB, fp16 ${(fp16.length / 1e6).toFixed(1)} MB (${from})`,
  );

  const probe = await photoCrop(FP16_PHOTOS[0], 16);
  console.log('  kernels of the fp16 model on the CPU EP (profiled):');
  for (const [kernel, n] of Object.entries(await kernelTypes(fp16, probe)))
    console.log(`    ${n} x ${kernel}`);

  const s32 = await session(fp32);
  const s16 = await session(fp16);
  const sStore = await session(halfStorageModel(fp32));
  for (const photo of FP16_PHOTOS) {
    const crop = await photoCrop(photo, size);
    const a = await run(s32, crop);
    const b = await run(s16, crop);
    const c = await run(sStore, crop);
    const weights = compareBytes(b.out, a.out);
    const storage = compareBytes(c.out, a.out);
    console.log(
      `  ${crop.name}: fp16 model on the CPU EP ${formatDb(weights.psnr)} dB (max ${weights.maxDiff}), ` +
        `fp16 storage ${formatDb(storage.psnr)} dB (max ${storage.maxDiff}); ` +
        `${a.ms.toFixed(0)} / ${b.ms.toFixed(0)} / ${c.ms.toFixed(0)} ms`,
    );
  }
  await Promise.all([s32.release(), s16.release(), sStore.release()]);

  const jsSize = Number(compact ? values['js-size'] : values['x4plus-js-size']);
  if (jsSize > 0 && !values['no-js']) {
    const sanity = await session(fp32);
    for (const photo of FP16_PHOTOS) {
      const crop = await photoCrop(photo, jsSize);
      const t0 = performance.now();
      const ref32 = toBytes(runReference(fp32, crop, 'fp32'));
      const ref16 = toBytes(runReference(fp32, crop, 'fp16'));
      const ms = performance.now() - t0;
      const ortOut = (await run(sanity, crop)).out;
      const acc = compareBytes(ref16, ref32);
      const check = compareBytes(ref32, ortOut);
      console.log(
        `  ${crop.name}: f16 accumulation (JS) ${formatDb(acc.psnr)} dB (max ${acc.maxDiff}); ` +
          `JS fp32 vs onnxruntime fp32 ${formatDb(check.psnr)} dB (max ${check.maxDiff}); ${ms.toFixed(0)} ms`,
      );
    }
    await sanity.release();
  }
}
