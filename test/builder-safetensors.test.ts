import { describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../tools/builder/safetensors-file.ts';
import { WeightStore } from '../tools/builder/weights.ts';
import {
  floatToHalf,
  float32ToHalfArray,
  halfArrayToFloat32,
  halfToFloat,
} from '../engine/latent/float16.ts';
import {
  encodeSafetensors,
  parseSafetensors,
  tensorToFloat32,
  tensorToHalfBits,
} from '../engine/latent/safetensors.ts';
import { hasTaef2, TAEF2_ENCODER } from './helpers/latent-packs.ts';
import { missingShared, sharedPath } from './helpers/shared.ts';

describe('float16', () => {
  it('converts exact values both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [Infinity, 0x7c00],
    ];
    for (const [value, bits] of cases) {
      expect(floatToHalf(value), `${value}`).toBe(bits);
      expect(halfToFloat(bits), `0x${bits.toString(16)}`).toBe(value);
    }
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  it('rounds to nearest even and overflows to infinity', () => {
    // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa.
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(-1e6)).toBe(0xfc00);
    const values = Float32Array.from([0.1, -3.25, 1000.5, 1e-5]);
    const back = halfArrayToFloat32(float32ToHalfArray(values));
    for (let i = 0; i < values.length; i++) expect(back[i]).toBeCloseTo(values[i], 3);
  });
});

describe('safetensors', () => {
  it('round-trips F32 and F16 tensors with metadata', () => {
    const a = Float32Array.from([1, -2.5, 3.25, 0, 7, 8]);
    const h = float32ToHalfArray(Float32Array.from([0.5, -1, 2]));
    const bytes = encodeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: a },
        { name: 'h', dtype: 'F16', shape: [3], data: h },
      ],
      { note: 'x' },
    );
    // The header length keeps the data 8-byte aligned.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ note: 'x' });
    expect(file.tensors.get('a')?.shape).toEqual([2, 3]);
    expect(Array.from(tensorToFloat32(file.tensors.get('a')!))).toEqual(Array.from(a));
    expect(Array.from(tensorToFloat32(file.tensors.get('h')!))).toEqual([0.5, -1, 2]);
    expect(Array.from(tensorToHalfBits(file.tensors.get('h')!))).toEqual(Array.from(h));
  });

  it('reads BF16 as float32', () => {
    // bf16 is the top half of a float32: 1.5 is 0x3fc0.
    const bits = Uint16Array.from([0x3fc0, 0xc020]);
    const file = parseSafetensors(
      encodeSafetensors([{ name: 'b', dtype: 'BF16', shape: [2], data: bits }]),
    );
    expect(Array.from(tensorToFloat32(file.tensors.get('b')!))).toEqual([1.5, -2.5]);
  });

  it('rejects broken files, naming the tensor', () => {
    const good = encodeSafetensors([
      { name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) },
    ]);
    expect(() => parseSafetensors(good.subarray(0, good.length - 4))).toThrow(
      /tensor w: bad data_offsets/,
    );
    expect(() => parseSafetensors(new Uint8Array(4))).toThrow(/too short/);
    const header = new TextEncoder().encode(
      '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}',
    );
    const bad = new Uint8Array(8 + header.length + 16);
    new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
    bad.set(header, 8);
    expect(() => parseSafetensors(bad)).toThrow(/tensor w: 16 bytes for F32 \[3\]/);
  });

  it.skipIf(!hasTaef2)('reads the real TAEF2 encoder (fp16, PyTorch tensor names)', async () => {
    const file = await readSafetensorsFile(sharedPath(...TAEF2_ENCODER));
    expect(file.tensors.size).toBe(79);
    const first = file.tensors.get('0.weight')!;
    expect(first.dtype).toBe('F16');
    expect(first.shape).toEqual([64, 3, 3, 3]);
    const values = tensorToFloat32(first);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.01);
    const store = new WeightStore(file, 'taef2 encoder');
    expect(() => store.f32('14.weight', [16, 64, 3, 3])).toThrow(/has shape \[32, 64, 3, 3\]/);
    expect(store.unused().length).toBe(79);
  });
  if (!hasTaef2) it.skip(missingShared(...TAEF2_ENCODER), () => {});
});
