/** Float tensors in a graph's precision (fp32, or fp16 as raw half bits) and back. */
import type { EngineTensor, TensorFactory } from '../session.ts';
import { float32ToHalfArray, halfArrayToFloat32 } from './float16.ts';

export type FloatType = 'float32' | 'float16';

export function floatTensor(
  factory: TensorFactory,
  type: FloatType,
  data: Float32Array,
  dims: readonly number[],
): EngineTensor {
  return type === 'float16'
    ? factory.tensor('float16', float32ToHalfArray(data), dims)
    : factory.tensor('float32', data, dims);
}

/**
 * A float tensor's values as float32. fp16 data arrives as raw bits (Uint16Array) or, where the
 * platform has it, as a Float16Array of numbers.
 */
export function readFloat(t: EngineTensor, what: string): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16') {
    if (d instanceof Uint16Array) return halfArrayToFloat32(d);
    if (ArrayBuffer.isView(d)) return Float32Array.from(d as unknown as ArrayLike<number>);
  }
  throw new Error(`${what}: expected float32 or float16 data, got ${t.type}`);
}
