/**
 * Seeded random weights for an architecture's tensor list: a WeightSource that generates each
 * tensor on demand (so a full-size random UNet is built without ever holding its weights), and
 * writers that save the same values as diffusers-named `.safetensors` (single file or sharded with
 * an index), for tests and speed work before real weights exist.
 *
 * Values follow PyTorch's default initialisation, so activations stay in a realistic range through
 * a deep network: conv / linear weights and their biases U(±1/√fan_in); norm scales 1 ± 0.1 and
 * norm shifts ±0.1 (perturbed from 1 and 0 so tests see them). Each tensor has its own stream
 * (seed and name hashed), so values do not depend on which tensors are read or in what order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { float32ToHalfArray } from '../../engine/latent/float16.ts';
import type { SafetensorsDType } from '../../engine/latent/safetensors.ts';
import { writeSafetensorsFile } from './safetensors-file.ts';
import type { TensorInfo, TensorSpec, WeightSource } from './weight-source.ts';
import { mulberry32 } from './generated/random.ts';

/** 32-bit FNV-1a of a string, mixed with the seed. */
function hashName(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Seeded uniforms in [-1, 1) (mulberry32). */
function uniformStream(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => uniform() * 2 - 1;
}

const fanIn = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);

/** The values of one tensor of `specs` for `seed`. */
export function randomTensor(
  spec: TensorSpec,
  seed: number,
  byName: ReadonlyMap<string, TensorSpec>,
): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const next = uniformStream(hashName(seed, spec.name));
  const out = new Float32Array(n);
  let scale: number;
  let offset = 0;
  if (spec.shape.length >= 2) {
    scale = 1 / Math.sqrt(fanIn(spec.shape));
  } else {
    const base = spec.name.replace(/\.(weight|bias)$/, '');
    const weight = byName.get(`${base}.weight`);
    const isNorm = !weight || weight.shape.length === 1;
    if (isNorm) {
      scale = 0.1;
      offset = spec.name.endsWith('.weight') ? 1 : 0;
    } else {
      scale = 1 / Math.sqrt(fanIn(weight.shape));
    }
  }
  for (let i = 0; i < n; i++) out[i] = offset + scale * next();
  return out;
}

export class RandomWeightSource implements WeightSource {
  private readonly byName: Map<string, TensorSpec>;

  constructor(
    private readonly specs: readonly TensorSpec[],
    readonly seed: number,
    readonly label = `random weights (seed ${seed})`,
  ) {
    this.byName = new Map(specs.map((s) => [s.name, s]));
  }

  list(): TensorInfo[] {
    return this.specs.map((s) => ({ name: s.name, dtype: 'F32' as const, shape: s.shape }));
  }

  info(name: string): TensorInfo | undefined {
    const s = this.byName.get(name);
    return s && { name, dtype: 'F32', shape: s.shape };
  }

  f32(name: string): Float32Array {
    const s = this.byName.get(name);
    if (!s) throw new Error(`${this.label}: no tensor ${name}`);
    return randomTensor(s, this.seed, this.byName);
  }

  f16(): undefined {
    return undefined;
  }

  close(): void {}
}

function encoded(source: WeightSource, spec: TensorSpec, dtype: 'F32' | 'F16') {
  const values = source.f32(spec.name);
  return {
    name: spec.name,
    dtype: dtype as SafetensorsDType,
    shape: spec.shape,
    data: dtype === 'F16' ? float32ToHalfArray(values) : values,
  };
}

/** Writes the random weights of `specs` as one diffusers-named `.safetensors` file. */
export async function writeRandomSafetensors(
  file: string,
  specs: readonly TensorSpec[],
  seed: number,
  dtype: 'F32' | 'F16' = 'F32',
): Promise<void> {
  const source = new RandomWeightSource(specs, seed);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeSafetensorsFile(
    file,
    specs.map((s) => encoded(source, s, dtype)),
    { format: 'pt', generator: `gendr-web random weights, seed ${seed}` },
  );
}

/**
 * Writes them sharded like diffusers' `save_pretrained(max_shard_size=...)`:
 * `<stem>-0000i-of-0000n.safetensors` plus `<stem>.safetensors.index.json`. Returns the index path.
 */
export async function writeRandomShardedSafetensors(
  dir: string,
  specs: readonly TensorSpec[],
  seed: number,
  shards: number,
  stem = 'diffusion_pytorch_model',
  dtype: 'F32' | 'F16' = 'F32',
): Promise<string> {
  const source = new RandomWeightSource(specs, seed);
  fs.mkdirSync(dir, { recursive: true });
  const per = Math.ceil(specs.length / shards);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let i = 0; i < shards; i++) {
    const part = specs.slice(i * per, (i + 1) * per);
    const name = `${stem}-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const tensors = part.map((s) => encoded(source, s, dtype));
    for (const t of tensors) {
      weightMap[t.name] = name;
      totalSize += t.data.byteLength;
    }
    await writeSafetensorsFile(path.join(dir, name), tensors, { format: 'pt' });
  }
  const index = path.join(dir, `${stem}.safetensors.index.json`);
  fs.writeFileSync(
    index,
    JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
  );
  return index;
}
