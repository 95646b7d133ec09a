/**
 * Full-size check of the SD builder (not part of `npm test`: minutes of CPU and ~6 GB of disk):
 * builds the GenDR UNet (SD 2.1 with 16 in/out channels, 865,979,856 parameters) from seeded
 * random weights in fp16 and in fp32 (over 2 GB: ONNX external data), streaming, then runs one
 * step on a 64×64 latent under onnxruntime-node and checks the output is finite.
 *
 * Each step runs in its own process under /usr/bin/time -v (when present) so its peak RSS is its
 * own. Writes everything under --out (default /tmp/gendr-full), and a report.json there.
 *
 *   node bin/run-ts.mjs tools/builder/full-size-check.ts [--out /tmp/gendr-full] [--steps build-fp16,build-fp32,run-fp32]
 *   (steps: build-fp16, build-fp32, run-fp32, run-fp16; run-* need the matching build-*)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { float32ToHalfArray, halfArrayToFloat32 } from '../../engine/latent/float16.ts';
import { presetUnetConfig } from './presets/index.ts';
import { convertSdUnet } from './sd-pack.ts';

const STEPS = ['build-fp16', 'build-fp32', 'run-fp32', 'run-fp16'] as const;
type Step = (typeof STEPS)[number];

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/gendr-full' },
    steps: { type: 'string', default: 'build-fp16,build-fp32,run-fp32' },
    step: { type: 'string' },
    size: { type: 'string', default: '64' },
  },
});
const out = path.resolve(values.out);
const size = Number(values.size);

/** Deterministic inputs: a smooth latent-like signal and an N(0,1)-ish embedding. */
function signal(n: number, freq: number, amp: number): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => amp * Math.sin(i * freq) * Math.cos(i * 0.0013),
  );
}

async function runStep(step: Step): Promise<Record<string, unknown>> {
  const [kind, dtype] = step.split('-') as ['build' | 'run', 'fp16' | 'fp32'];
  const dir = path.join(out, dtype);
  if (kind === 'build') {
    fs.rmSync(dir, { recursive: true, force: true });
    const c = convertSdUnet({ random: true, seed: 1 }, presetUnetConfig('gendr'), dir, {
      precision: dtype,
      form: 'plain',
    });
    return { parameters: c.parameters, nodes: c.nodes, seconds: c.seconds, files: c.files };
  }
  const ort = await import('onnxruntime-node');
  const model = path.join(dir, 'unet', 'model.onnx');
  if (!fs.existsSync(model)) throw new Error(`${model} missing: run build-${dtype} first`);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: os.availableParallelism(),
  });
  const createSeconds = (performance.now() - t0) / 1000;
  // fp16 graphs take and return float32 by default (Casts inside), or float16 (--io-dtype fp16).
  const declared = (name: string) => {
    const m = session.inputMetadata.find((x) => x.name === name);
    return m?.isTensor ? m.type : 'float32';
  };
  const input = (name: string, values: Float32Array, dims: number[]) =>
    declared(name) === 'float16'
      ? new ort.Tensor('float16', float32ToHalfArray(values), dims)
      : new ort.Tensor('float32', values, dims);
  const t1 = performance.now();
  const result = await session.run({
    sample: input('sample', signal(16 * size * size, 0.37, 1), [1, 16, size, size]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(500n), [1]),
    encoder_hidden_states: input(
      'encoder_hidden_states',
      signal(77 * 1024, 0.11, 1),
      [1, 77, 1024],
    ),
  });
  const runSeconds = (performance.now() - t1) / 1000;
  const o = result.out_sample;
  const data =
    o.type === 'float16' ? halfArrayToFloat32(o.data as Uint16Array) : (o.data as Float32Array);
  let finite = 0;
  let sum = 0;
  let sq = 0;
  for (const v of data) {
    if (Number.isFinite(v)) {
      finite++;
      sum += v;
      sq += v * v;
    }
  }
  const mean = sum / finite;
  await session.release();
  return {
    latent: [1, 16, size, size],
    dims: o.dims,
    finite: `${finite}/${data.length}`,
    allFinite: finite === data.length,
    mean,
    std: Math.sqrt(sq / finite - mean * mean),
    createSeconds,
    runSeconds,
  };
}

function maxRssKb(stderr: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

async function orchestrate(): Promise<void> {
  const steps = values.steps.split(',') as Step[];
  for (const s of steps)
    if (!STEPS.includes(s)) throw new Error(`unknown step ${s} (${STEPS.join(', ')})`);
  fs.mkdirSync(out, { recursive: true });
  const self = fileURLToPath(import.meta.url);
  const runTs = path.resolve(path.dirname(self), '../../bin/run-ts.mjs');
  const useTime = fs.existsSync('/usr/bin/time');
  const report: Record<string, unknown> = {
    out,
    cpus: os.availableParallelism(),
    node: process.version,
  };
  for (const step of steps) {
    const args = [
      process.execPath,
      runTs,
      self,
      '--step',
      step,
      '--out',
      out,
      '--size',
      String(size),
    ];
    const [cmd, ...rest] = useTime ? ['/usr/bin/time', '-v', ...args] : args;
    console.error(`== ${step}`);
    const wall = performance.now();
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>(
      (resolve, reject) => {
        execFile(cmd, rest, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${step} failed: ${stderr.slice(-2000)}`));
          else resolve({ stdout, stderr });
        });
      },
    );
    const line = stdout.trim().split('\n').pop() ?? '{}';
    const result = JSON.parse(line) as Record<string, unknown>;
    const rss = maxRssKb(stderr) ?? (result.maxRssKb as number | undefined);
    report[step] = {
      ...result,
      wallSeconds: (performance.now() - wall) / 1000,
      peakRssMiB: rss ? Math.round(rss / 1024) : undefined,
    };
    console.error(JSON.stringify(report[step], null, 2));
  }
  fs.writeFileSync(path.join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

if (values.step) {
  const result = await runStep(values.step as Step);
  console.log(JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS }));
} else {
  await orchestrate();
}
