/**
 * A `.safetensors` parser (https://github.com/huggingface/safetensors format): an 8-byte little-endian
 * header length, a JSON header `{ name: { dtype, shape, data_offsets }, __metadata__? }`, then the
 * raw little-endian tensor bytes. Pure and runtime-free: the worker reads pack embeddings with it
 * and the builder reads model weights with it.
 */
import { halfToFloat } from './float16.ts';

export type SafetensorsDType =
  'F16' | 'BF16' | 'F32' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDType, number> = {
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** The tensor's raw bytes (a view into the file). */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Parses a whole `.safetensors` file held in memory. Tensor bytes are views, not copies. */
export function parseSafetensors(file: Uint8Array, what = 'safetensors'): SafetensorsFile {
  if (file.byteLength < 8)
    throw new SafetensorsError(`${what}: ${file.byteLength} bytes, too short`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > file.byteLength) {
    throw new SafetensorsError(
      `${what}: header length ${headerLen} does not fit ${file.byteLength} bytes`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLen))) as Record<
      string,
      unknown
    >;
  } catch (e) {
    throw new SafetensorsError(`${what}: header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = file.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafetensorsDType;
    if (!(typeof dtype === 'string' && dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(
        `${what}: tensor ${name}: unsupported dtype ${String(info.dtype)}`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${what}: tensor ${name}: bad shape ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !Number.isInteger(offsets[0]) ||
      !Number.isInteger(offsets[1]) ||
      offsets[0] < 0 ||
      offsets[1] < offsets[0] ||
      offsets[1] > dataLen
    ) {
      throw new SafetensorsError(
        `${what}: tensor ${name}: bad data_offsets ${JSON.stringify(offsets)}`,
      );
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * DTYPE_BYTES[dtype]) {
      throw new SafetensorsError(
        `${what}: tensor ${name}: ${end - begin} bytes for ${dtype} [${shape.join(', ')}]`,
      );
    }
    tensors.set(name, {
      name,
      dtype,
      shape: shape as number[],
      bytes: file.subarray(dataStart + begin, dataStart + end),
    });
  }
  return { metadata, tensors };
}

/** A tensor's values as float32 (F16, BF16, F32 and F64 are converted). */
export function tensorToFloat32(t: SafetensorsEntry): Float32Array {
  const n = t.bytes.byteLength / DTYPE_BYTES[t.dtype];
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    default:
      throw new SafetensorsError(`tensor ${t.name}: ${t.dtype} is not a float type`);
  }
}

/** A tensor's raw half bits (F16 only, copied so the result is aligned). */
export function tensorToHalfBits(t: SafetensorsEntry): Uint16Array {
  if (t.dtype !== 'F16')
    throw new SafetensorsError(`tensor ${t.name}: expected F16, got ${t.dtype}`);
  const out = new Uint16Array(t.bytes.byteLength / 2);
  new Uint8Array(out.buffer).set(t.bytes);
  return out;
}

/** Serializes tensors to `.safetensors` bytes (tensors in the given order, 8-byte aligned header). */
export function encodeSafetensors(
  tensors: readonly {
    name: string;
    dtype: SafetensorsDType;
    shape: readonly number[];
    data: ArrayBufferView;
  }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.byteLength !== count * DTYPE_BYTES[t.dtype]) {
      throw new SafetensorsError(
        `tensor ${t.name}: ${t.data.byteLength} bytes for ${t.dtype} [${t.shape.join(', ')}]`,
      );
    }
    header[t.name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
