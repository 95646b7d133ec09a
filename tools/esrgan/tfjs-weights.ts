/**
 * Decodes the binary weights of a TF.js layers model: the weight shards of each group are
 * concatenated in manifest order and the groups follow one another; every weight occupies
 * `product(shape)` elements of its stored dtype, and quantized weights (uint8 / uint16 affine,
 * or float16) are dequantized to float32.
 */

export interface TfjsQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: TfjsQuantization;
}

export interface TfjsWeightGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface DecodedWeight {
  shape: number[];
  data: Float32Array;
}

/** Decodes all weights of a manifest from the concatenated shard bytes of all its groups. */
export function decodeWeights(
  specs: readonly TfjsWeightSpec[],
  bytes: Uint8Array,
): Map<string, DecodedWeight> {
  const weights = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const size = count * bytesPerElement(stored, spec.name);
    if (offset + size > bytes.length) {
      throw new Error(
        `weight ${spec.name}: needs bytes ${offset}..${offset + size}, shards hold ${bytes.length}`,
      );
    }
    // Copy so the element view is aligned whatever the offset.
    const chunk = bytes.slice(offset, offset + size);
    if (weights.has(spec.name)) throw new Error(`weight ${spec.name} appears twice`);
    weights.set(spec.name, { shape: [...spec.shape], data: decodeOne(spec, chunk, count) });
    offset += size;
  }
  if (offset !== bytes.length) {
    throw new Error(`weight manifest covers ${offset} bytes but the shards hold ${bytes.length}`);
  }
  return weights;
}

function decodeOne(spec: TfjsWeightSpec, chunk: Uint8Array, count: number): Float32Array {
  const q = spec.quantization;
  if (spec.dtype !== 'float32') {
    throw new Error(`weight ${spec.name}: dtype ${spec.dtype} is not supported (float32 only)`);
  }
  if (!q) return new Float32Array(chunk.buffer, 0, count);
  const out = new Float32Array(count);
  switch (q.dtype) {
    case 'uint8':
    case 'uint16': {
      if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
        throw new Error(`weight ${spec.name}: ${q.dtype} quantization without scale/min`);
      }
      const src =
        q.dtype === 'uint8'
          ? new Uint8Array(chunk.buffer, 0, count)
          : new Uint16Array(chunk.buffer, 0, count);
      for (let i = 0; i < count; i++) out[i] = src[i] * q.scale + q.min;
      return out;
    }
    case 'float16': {
      const src = new Uint16Array(chunk.buffer, 0, count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    default:
      throw new Error(
        `weight ${spec.name}: unknown quantization ${String((q as { dtype: unknown }).dtype)}`,
      );
  }
}

function bytesPerElement(dtype: string, name: string): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'uint16':
    case 'float16':
      return 2;
    case 'uint8':
    case 'bool':
      return 1;
    default:
      throw new Error(`weight ${name}: unknown dtype ${dtype}`);
  }
}

/** IEEE 754 binary16 bits to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
