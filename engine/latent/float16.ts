/**
 * IEEE 754 half-precision conversions for fp16 packs and fp16 safetensors (raw bits in Uint16Array).
 * Round-to-nearest-even, like numpy / torch `.half()`.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One half (raw bits) to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** One number to half bits (round to nearest even; overflow to ±Inf). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function halfArrayToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  return out;
}

export function float32ToHalfArray(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalf(src[i]);
  return out;
}

const SUBNORMAL_MAGIC = 1.5 * 2 ** 28;
const VELTKAMP = 2 ** 42 + 1;

/**
 * `value` rounded to the nearest half-precision number, as a number (overflow to ±Inf, the
 * subnormal range kept). Arithmetic only, for references that round every partial sum:
 * subnormals round ties-to-even, normal numbers to nearest by Veltkamp splitting (an exact tie
 * may go either way).
 */
export function roundToHalf(value: number): number {
  const a = Math.abs(value);
  if (a < 2 ** -14) return value + SUBNORMAL_MAGIC - SUBNORMAL_MAGIC;
  if (a >= 65520) return Number.isNaN(value) ? NaN : value > 0 ? Infinity : -Infinity;
  const c = value * VELTKAMP;
  return c - (c - value);
}
