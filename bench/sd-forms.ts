/**
 * Plain-op vs fused (onnxruntime contrib ops) forms of the SD builder's graphs, timed on
 * onnxruntime-node (CPU) and onnxruntime-web's WASM backend (in Node), with the tiny test configs
 * (test/helpers/sd-tiny.ts) and seeded random weights. Prints the median of `runs` (the two forms
 * run alternately, after one warm-up each), and the fused/plain time ratio.
 *
 *   npx tsx bench/sd-forms.ts [--size 32] [--runs 15] [--threads 2]
 */
import { parseArgs } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { parseUnetConfig } from '../tools/builder/architectures/sd-unet/config.ts';
import { buildUnetGraph } from '../tools/builder/architectures/sd-unet/graph.ts';
import { planUnet, unetTensorSpecs } from '../tools/builder/architectures/sd-unet/plan.ts';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { buildVaeDecoderGraph } from '../tools/builder/architectures/sd-vae/graph.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { RandomWeightSource } from '../tools/builder/random-weights.ts';
import { signal, TINY_UNET, TINY_VAE } from '../test/helpers/sd-tiny.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '32' },
    runs: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
  },
});
const size = Number(values.size);
const runs = Number(values.runs);
const threads = Number(values.threads);
ortWeb.env.wasm.numThreads = threads;

type Ort = typeof ortNode;
const backends: [string, Ort, string][] = [
  ['cpu (onnxruntime-node)', ortNode, 'cpu'],
  ['wasm (onnxruntime-web)', ortWeb as unknown as Ort, 'wasm'],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median times of two sessions run alternately (so load changes hit both alike). */
async function timePair(
  ort: Ort,
  ep: string,
  models: [Uint8Array, Uint8Array],
  feeds: () => Record<string, ortNode.Tensor>,
): Promise<[number, number]> {
  const opts = { executionProviders: [ep], intraOpNumThreads: threads };
  const sessions = [
    await ort.InferenceSession.create(models[0], opts),
    await ort.InferenceSession.create(models[1], opts),
  ];
  for (const s of sessions) await s.run(feeds());
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const k of [0, 1] as const) {
      const t = performance.now();
      await sessions[k].run(feeds());
      times[k].push(performance.now() - t);
    }
  }
  for (const s of sessions) await s.release();
  return [median(times[0]), median(times[1])];
}

const unetPlan = planUnet(parseUnetConfig(TINY_UNET));
const unetWeights = new RandomWeightSource(unetTensorSpecs(unetPlan), 1);
const vaePlan = planVae(parseVaeConfig(TINY_VAE));
const vaeWeights = new RandomWeightSource(vaeTensorSpecs(vaePlan), 2);

const graphs = {
  unet: {
    build: (form: 'plain' | 'fused') =>
      buildUnetGraph(unetPlan, unetWeights, { precision: 'fp32', form }).g.toBytes(),
    feeds: (ort: Ort) => () => ({
      sample: new ort.Tensor('float32', signal(16 * size * size, 0.3), [1, 16, size, size]),
      timestep: new ort.Tensor('int64', BigInt64Array.of(500n), [1]),
      encoder_hidden_states: new ort.Tensor('float32', signal(77 * 32, 0.1), [1, 77, 32]),
    }),
  },
  vae_decoder: {
    build: (form: 'plain' | 'fused') =>
      buildVaeDecoderGraph(vaePlan, vaeWeights, { precision: 'fp32', form }).g.toBytes(),
    feeds: (ort: Ort) => () => ({
      latent_sample: new ort.Tensor('float32', signal(16 * size * size, 0.2), [1, 16, size, size]),
    }),
  },
};

console.log(`tiny configs, ${size}x${size} latent, fp32, ${threads} thread(s), median of ${runs}`);
for (const [name, g] of Object.entries(graphs)) {
  const plain = g.build('plain');
  const fused = g.build('fused');
  for (const [label, ort, ep] of backends) {
    let tp: number, tf: number;
    try {
      [tp, tf] = await timePair(ort, ep, [plain, fused], g.feeds(ort));
    } catch (e) {
      console.log(
        `${name.padEnd(12)} ${label.padEnd(24)} failed: ${(e as Error).message.slice(0, 160)}`,
      );
      continue;
    }
    console.log(
      `${name.padEnd(12)} ${label.padEnd(24)} plain ${tp.toFixed(1).padStart(7)} ms  fused ${tf.toFixed(1).padStart(7)} ms  fused/plain ${(tf / tp).toFixed(2)}`,
    );
  }
}
