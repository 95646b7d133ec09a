/**
 * Micro-benchmark of one layer type, the 64 -> 64 3x3 convolution + ReLU that dominates the ESRGAN
 * graphs, single-threaded (CPU time of this process, robust to a shared machine), in V8:
 *   - onnxruntime-web's WASM build (the app's runtime), NCHW;
 *   - the hand-written direct convolution (engine/kernels/conv.c), NHWC, SIMD128 / relaxed;
 *   - the hand-written Winograd F(4x4, 3x3) (winograd.c), NHWC, SIMD128 / relaxed.
 * Reports GMAC/s (direct-convolution multiply-adds per second) and the max relative difference of
 * each output from onnxruntime's.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/perf/kernel-bench.ts [size] [layers]
 * (Node 20 needs the flag for relaxed SIMD; Chromium has it on.) Needs clang-16 + lld-16 (apt).
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { GraphBuilder } from '../../tools/onnx/graph-builder.ts';
import { createKernelSession } from '../../engine/kernels/kernel-session.ts';
import { kernelFile } from '../../tools/kernels/build-kernels.ts';

const SIZE = Number(process.argv[2] ?? 128);
const LAYERS = Number(process.argv[3] ?? 4);
const C = 64;
const REPS = 5;

const rand = (n: number, scale: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => {
    const v = (Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1;
    return (((v + 1) % 1) - 0.5) * scale;
  });

const weights = Array.from({ length: LAYERS }, (_, l) => rand(C * C * 9, 0.12, l)); // OIHW
const biases = Array.from({ length: LAYERS }, (_, l) => rand(C, 0.1, 100 + l));
const input = rand(C * SIZE * SIZE, 2, 999).map(Math.abs); // NCHW

function cpuMs(fn: () => void | Promise<void>): Promise<number> {
  const t = process.cpuUsage();
  return Promise.resolve(fn()).then(() => {
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1000;
  });
}

/** The fp32 layers as ONNX. */
function fp32Model(): Uint8Array {
  const g = new GraphBuilder('convs');
  let x = g.input('x', 'float32', [1, C, SIZE, SIZE]);
  for (let l = 0; l < LAYERS; l++) {
    const w = g.constF32('w', weights[l], [C, C, 3, 3]);
    x = g.node('Conv', [x, w, g.constF32('b', biases[l], [C])], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
    });
    x = g.node('Relu', [x]);
  }
  g.output(x, 'y', 'float32', [1, C, SIZE, SIZE]);
  return g.toBytes();
}

/**
 * The same layers quantised for onnxruntime's int8 kernels: QDQ (QuantizeLinear/DequantizeLinear
 * around each Conv, which ORT fuses into QLinearConv) with u8 activations and s8 per-channel
 * weights, or explicit QLinearConv chains with u8 weights. Scales are rough (speed only).
 */
function int8Model(kind: 'qdq' | 'qlinear-u8w'): Uint8Array {
  const g = new GraphBuilder(kind);
  let x = g.input('x', 'float32', [1, C, SIZE, SIZE]);
  const xs = g.constF32('xs', [0.02], []);
  const zero8 = () => g.initializer('z8', 'bool', [], new Uint8Array([0]));
  const weightCodes = (l: number) =>
    Uint8Array.from(weights[l], (v) => (Math.round(v / 0.0005) + 256) & 255);
  const ws = g.constF32('ws', new Float32Array(C).fill(0.0005), [C]);
  if (kind === 'qdq') {
    for (let l = 0; l < LAYERS; l++) {
      const z = zero8();
      x = g.node('DequantizeLinear', [g.node('QuantizeLinear', [x, xs, z]), xs, z]);
      const wq = g.initializer('wq', 'bool', [C, C, 3, 3], weightCodes(l));
      const wz = g.initializer('wz', 'bool', [C], new Uint8Array(C));
      const w = g.node('DequantizeLinear', [wq, ws, wz], { axis: 0 });
      const b = g.constF32('b', biases[l], [C]);
      x = g.node('Conv', [x, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      x = g.node('Relu', [x]);
    }
  } else {
    const z = zero8();
    x = g.node('QuantizeLinear', [x, xs, z]);
    for (let l = 0; l < LAYERS; l++) {
      const wq = g.initializer(
        'wq',
        'bool',
        [C, C, 3, 3],
        weightCodes(l).map((v) => (v + 128) & 255),
      );
      const wz = g.initializer('wzu', 'bool', [C], new Uint8Array(C).fill(128));
      const bias = Int32Array.from(biases[l], (b) => Math.round(b / (0.02 * 0.0005)));
      const bq = g.initializer('bq', 'int32', [C], bias);
      const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
      x = g.node('QLinearConv', [x, xs, z, wq, ws, wz, xs, z, bq], attrs);
    }
    x = g.node('DequantizeLinear', [x, xs, z]);
  }
  g.output(x, 'y', 'float32', [1, C, SIZE, SIZE]);
  const model = g.toModelProto();
  for (const t of model.graph?.initializer ?? []) {
    // GraphBuilder has no 8-bit types: retag the raw bytes (UINT8 = 2, INT8 = 3).
    if (t.name?.startsWith('z8') || t.name?.startsWith('wzu')) t.dataType = 2;
    else if (t.name?.startsWith('wq')) t.dataType = kind === 'qdq' ? 3 : 2;
    else if (t.name?.startsWith('wz')) t.dataType = 3;
  }
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

async function ortRun(bytes: Uint8Array = fp32Model()): Promise<{ ms: number; out: Float32Array }> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const feeds = { x: new ort.Tensor('float32', input, [1, C, SIZE, SIZE]) };
  let out: Float32Array = new Float32Array(0);
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    times.push(
      await cpuMs(async () => {
        out = (await session.run(feeds)).y.data as Float32Array;
      }),
    );
  }
  return { ms: Math.min(...times), out };
}

/** The same layers on the hand-written kernels (direct or Winograd), through a kernel session. */
async function handWritten(
  kind: 'direct' | 'winograd',
  file: string,
): Promise<{ ms: number; out: Float32Array }> {
  const session = await createKernelSession(fp32Model(), readFileSync(file), {
    winograd: kind === 'winograd',
  });
  const feeds = { x: { type: 'float32', data: input, dims: [1, C, SIZE, SIZE] } };
  let out: Float32Array = new Float32Array(0);
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    times.push(
      await cpuMs(async () => {
        out = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
      }),
    );
  }
  await session.release?.();
  return { ms: Math.min(...times), out };
}

function relDiff(a: Float32Array, ref: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / m;
}

const macs = LAYERS * C * C * 9 * SIZE * SIZE;
const built: Record<string, string> = {
  'kernels-simd': kernelFile('simd'),
  'kernels-relaxed': kernelFile('relaxed'),
};
const ref = await ortRun();
const rows: {
  variant: string;
  'min CPU ms': number;
  'GMAC/s': number;
  'vs ORT': string;
  'max rel diff': string;
}[] = [];
const add = (variant: string, r: { ms: number; out: Float32Array }) =>
  rows.push({
    variant,
    'min CPU ms': Math.round(r.ms),
    'GMAC/s': Number(((macs / r.ms) * 1e-6).toFixed(1)),
    'vs ORT': `${(ref.ms / r.ms).toFixed(2)}x`,
    'max rel diff': relDiff(r.out, ref.out).toExponential(1),
  });
add('onnxruntime-web 1.30 wasm (NCHW)', ref);
add(
  'onnxruntime-web int8 QDQ (u8 act, s8 weights; quality not tuned)',
  await ortRun(int8Model('qdq')),
);
add(
  'onnxruntime-web int8 QLinearConv (u8 act, u8 weights; quality not tuned)',
  await ortRun(int8Model('qlinear-u8w')),
);
for (const kind of ['direct', 'winograd'] as const) {
  for (const flavour of ['simd', 'relaxed']) {
    const file = built[`kernels-${flavour}`];
    try {
      add(`${kind} ${flavour}`, await handWritten(kind, file));
    } catch (error) {
      console.log(`${kind} ${flavour}: ${(error as Error).message}`);
    }
  }
}
console.log(
  `${LAYERS} x conv 3x3 ${C}->${C} + ReLU on ${SIZE}x${SIZE}, one thread, ${process.version}`,
);
console.table(rows);
const nonzero = ref.out.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
if (nonzero < ref.out.length / 10)
  throw new Error('test activations died in the ReLUs: the comparison would be empty');
