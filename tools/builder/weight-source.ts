/**
 * Lazily read model weights for architectures too large to hold in memory (the SD 2.1 UNet is
 * 3.5 GB in fp32): a `.safetensors` file is opened by its header only, and each tensor is read
 * from disk with a positioned read when the ONNX writer needs it. Sharded diffusers checkpoints
 * (`*.safetensors.index.json` + shards) look like one source. Sources are checked against an
 * architecture's expected tensor list up front, so a wrong checkpoint fails naming every missing,
 * unexpected or mis-shaped tensor before any graph is built.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  SafetensorsError,
  tensorToFloat32,
  type SafetensorsDType,
} from '../../engine/latent/safetensors.ts';

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
}

/** A tensor an architecture expects: diffusers name and shape. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface WeightSource {
  /** For messages: the file or folder. */
  readonly label: string;
  list(): TensorInfo[];
  info(name: string): TensorInfo | undefined;
  /** The tensor's values as float32 (read from disk now; not cached). */
  f32(name: string): Float32Array;
  /** The tensor's raw half bits when it is stored as F16 (no rounding twice), else undefined. */
  f16(name: string): Uint16Array | undefined;
  close(): void;
}

const DTYPE_BYTES: Partial<Record<SafetensorsDType, number>> = { F16: 2, BF16: 2, F32: 4, F64: 8 };

interface FileTensor extends TensorInfo {
  /** Absolute byte offset of the data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

/** One `.safetensors` file, read tensor by tensor. */
export class SafetensorsFileSource implements WeightSource {
  private fd: number | undefined;
  private readonly tensors = new Map<string, FileTensor>();
  readonly metadata: Record<string, string> = {};

  constructor(readonly label: string) {
    const fd = fs.openSync(label, 'r');
    this.fd = fd;
    try {
      const size = fs.fstatSync(fd).size;
      const lenBuf = Buffer.alloc(8);
      if (size < 8 || fs.readSync(fd, lenBuf, 0, 8, 0) !== 8) {
        throw new SafetensorsError(`${label}: ${size} bytes, too short for safetensors`);
      }
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen <= 0 || 8 + headerLen > size || headerLen > 100_000_000) {
        throw new SafetensorsError(
          `${label}: header length ${headerLen} does not fit ${size} bytes`,
        );
      }
      const headerBuf = Buffer.alloc(headerLen);
      fs.readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new SafetensorsError(`${label}: header is not JSON (${(e as Error).message})`);
      }
      const dataStart = 8 + headerLen;
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          Object.assign(this.metadata, raw ?? {});
          continue;
        }
        const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
        const dtype = info.dtype as SafetensorsDType;
        const shape = info.shape as number[];
        const offsets = info.data_offsets as [number, number];
        if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
          throw new SafetensorsError(
            `${label}: tensor ${name}: bad shape ${JSON.stringify(shape)}`,
          );
        }
        if (
          !Array.isArray(offsets) ||
          offsets.length !== 2 ||
          !(offsets[0] >= 0 && offsets[1] >= offsets[0] && dataStart + offsets[1] <= size)
        ) {
          throw new SafetensorsError(
            `${label}: tensor ${name}: bad data_offsets ${JSON.stringify(offsets)}`,
          );
        }
        const count = shape.reduce((a, b) => a * b, 1);
        const width = DTYPE_BYTES[dtype];
        if (width !== undefined && offsets[1] - offsets[0] !== count * width) {
          throw new SafetensorsError(
            `${label}: tensor ${name}: ${offsets[1] - offsets[0]} bytes for ${dtype} [${shape.join(', ')}]`,
          );
        }
        this.tensors.set(name, {
          name,
          dtype,
          shape,
          offset: dataStart + offsets[0],
          byteLength: offsets[1] - offsets[0],
        });
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  list(): TensorInfo[] {
    return [...this.tensors.values()];
  }

  info(name: string): TensorInfo | undefined {
    return this.tensors.get(name);
  }

  private bytes(name: string): { t: FileTensor; bytes: Uint8Array } {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.label}: no tensor ${name}`);
    if (this.fd === undefined) throw new Error(`${this.label}: read after close`);
    const bytes = new Uint8Array(t.byteLength);
    let done = 0;
    while (done < t.byteLength) {
      const n = fs.readSync(this.fd, bytes, done, t.byteLength - done, t.offset + done);
      if (n <= 0) throw new Error(`${this.label}: short read of ${name}`);
      done += n;
    }
    return { t, bytes };
  }

  f32(name: string): Float32Array {
    const { t, bytes } = this.bytes(name);
    if (t.dtype === 'F32') return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
    return tensorToFloat32({ name, dtype: t.dtype, shape: t.shape, bytes });
  }

  f16(name: string): Uint16Array | undefined {
    if (this.tensors.get(name)?.dtype !== 'F16') return undefined;
    const { bytes } = this.bytes(name);
    return new Uint16Array(bytes.buffer, 0, bytes.byteLength / 2);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Several sources seen as one (the shards of a sharded checkpoint). */
export class CombinedSource implements WeightSource {
  private readonly owner = new Map<string, WeightSource>();

  constructor(
    readonly label: string,
    private readonly parts: WeightSource[],
  ) {
    for (const part of parts) {
      for (const t of part.list()) {
        const other = this.owner.get(t.name);
        if (other) {
          throw new Error(`${label}: tensor ${t.name} is in both ${other.label} and ${part.label}`);
        }
        this.owner.set(t.name, part);
      }
    }
  }

  list(): TensorInfo[] {
    return this.parts.flatMap((p) => p.list());
  }

  info(name: string): TensorInfo | undefined {
    return this.owner.get(name)?.info(name);
  }

  f32(name: string): Float32Array {
    const part = this.owner.get(name);
    if (!part) throw new Error(`${this.label}: no tensor ${name}`);
    return part.f32(name);
  }

  f16(name: string): Uint16Array | undefined {
    return this.owner.get(name)?.f16(name);
  }

  close(): void {
    for (const p of this.parts) p.close();
  }
}

/** Opens a sharded checkpoint from its `*.safetensors.index.json` (`weight_map`: name -> shard). */
export function openShardedSafetensors(indexFile: string): WeightSource {
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as {
    weight_map?: Record<string, string>;
  };
  const map = index.weight_map;
  if (!map || typeof map !== 'object') throw new Error(`${indexFile}: no weight_map`);
  const dir = path.dirname(indexFile);
  const shards = [...new Set(Object.values(map))].sort();
  const parts: WeightSource[] = [];
  try {
    for (const shard of shards) parts.push(new SafetensorsFileSource(path.join(dir, shard)));
  } catch (e) {
    for (const p of parts) p.close();
    throw e;
  }
  const source = new CombinedSource(indexFile, parts);
  const byFile = new Map(parts.map((p) => [p.label, p]));
  const wrong = Object.entries(map)
    .filter(([name, shard]) => !byFile.get(path.join(dir, shard))?.info(name))
    .map(([name, shard]) => `${name} (${shard})`);
  if (wrong.length) {
    source.close();
    throw new Error(
      `${indexFile}: weight_map names tensors its shards do not hold: ${wrong.join(', ')}`,
    );
  }
  return source;
}

/**
 * Opens `--weights`: a `.safetensors` file, a `*.safetensors.index.json`, or a folder holding one
 * of them (diffusers' `diffusion_pytorch_model[.fp16].safetensors[.index.json]`, else the only
 * `.safetensors` or index file there).
 */
export function openWeights(where: string): WeightSource {
  const stat = fs.statSync(where);
  if (stat.isDirectory()) {
    const files = fs.readdirSync(where).sort();
    const pick =
      ['diffusion_pytorch_model.safetensors.index.json', 'diffusion_pytorch_model.safetensors']
        .concat([
          'diffusion_pytorch_model.fp16.safetensors.index.json',
          'diffusion_pytorch_model.fp16.safetensors',
        ])
        .find((f) => files.includes(f)) ??
      only(
        where,
        files.filter((f) => f.endsWith('.safetensors.index.json')),
      ) ??
      only(
        where,
        files.filter((f) => f.endsWith('.safetensors')),
      );
    if (!pick)
      throw new Error(`${where}: no .safetensors file or .safetensors.index.json in this folder`);
    return openWeights(path.join(where, pick));
  }
  if (where.endsWith('.index.json')) return openShardedSafetensors(where);
  return new SafetensorsFileSource(where);
}

function only(dir: string, files: string[]): string | undefined {
  if (files.length > 1) {
    throw new Error(`${dir}: several candidate weight files (${files.join(', ')}); name one`);
  }
  return files[0];
}

export class WeightMismatchError extends Error {
  override name = 'WeightMismatchError';
  constructor(
    readonly label: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly misshapen: string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing tensor(s): ${missing.join(', ')}`);
    if (unexpected.length) {
      parts.push(`${unexpected.length} unexpected tensor(s): ${unexpected.join(', ')}`);
    }
    if (misshapen.length)
      parts.push(`${misshapen.length} tensor(s) of the wrong shape: ${misshapen.join(', ')}`);
    super(`${label} does not match the architecture: ${parts.join('; ')}`);
  }
}

/**
 * Throws WeightMismatchError unless `source` holds exactly `specs` (names and shapes), in float
 * types. Tensors named in `tolerated` may also be present (the other half of a checkpoint).
 */
export function checkWeights(
  source: WeightSource,
  specs: readonly TensorSpec[],
  tolerated: readonly TensorSpec[] = [],
): void {
  const expected = new Map([...tolerated, ...specs].map((s) => [s.name, s.shape]));
  const missing = specs.filter((s) => !source.info(s.name)).map((s) => s.name);
  const unexpected: string[] = [];
  const misshapen: string[] = [];
  for (const t of source.list()) {
    const shape = expected.get(t.name);
    if (!shape) {
      unexpected.push(t.name);
    } else if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      misshapen.push(`${t.name} [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    } else if (DTYPE_BYTES[t.dtype] === undefined) {
      misshapen.push(`${t.name} is ${t.dtype}, not a float type`);
    }
  }
  if (missing.length || unexpected.length || misshapen.length) {
    throw new WeightMismatchError(source.label, missing, unexpected, misshapen);
  }
}

/** Number of scalars in a tensor list. */
export function countParameters(specs: readonly TensorSpec[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
