/**
 * Profiles the kernel session on one built-in model, one thread, by step kind (CPU time of this
 * process, so other jobs on the machine matter little):
 *   node --experimental-wasm-relaxed-simd bin/run-ts.mjs bench/perf/profile-kernels.ts [model] [size] [simd|relaxed]
 */
import fs from 'node:fs';
import { createKernelSession } from '../../engine/kernels/kernel-session.ts';
import { kernelFile, type Flavour } from '../../tools/kernels/build-kernels.ts';
import { modelFile, readModelIndex } from '../../test/helpers/builtin-models.ts';

const [id = 'esrgan-medium-x4', sizeArg = '256', flavour = 'relaxed'] = process.argv.slice(2);
const size = Number(sizeArg);
const manifest = readModelIndex().models.find((m) => m.id === id);
if (!manifest) throw new Error(`unknown model ${id}`);
const session = await createKernelSession(
  new Uint8Array(fs.readFileSync(modelFile(manifest))),
  fs.readFileSync(process.env.KERNELS_WASM ?? kernelFile(flavour as Flavour)),
);
const data = Float32Array.from(
  { length: 3 * size * size },
  (_, i) => (0.5 + 0.5 * Math.sin(i * 0.37)) * manifest.inputRange[1],
);
const feeds = {
  [session.inputNames[0]]: { type: 'float32' as const, data, dims: [1, 3, size, size] },
};
await session.run(feeds);
const cpu: number[] = [];
session.runner.profile = new Map();
for (let i = 0; i < 3; i++) {
  const start = process.cpuUsage();
  await session.run(feeds);
  const used = process.cpuUsage(start);
  cpu.push((used.user + used.system) / 1000);
}
const profile = [...session.runner.profile.entries()].map(([k, ms]) => [k, Math.round(ms / 3)]);
console.log(
  `${id} ${size}² ${flavour}: CPU ms per run ${cpu.map((x) => x.toFixed(0)).join(', ')} (min ${Math.min(...cpu).toFixed(0)})`,
);
console.log(Object.fromEntries(profile));
await session.release?.();
