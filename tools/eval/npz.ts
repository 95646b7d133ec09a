/**
 * Reads numpy `.npz` archives (a zip of `.npy` files) holding little-endian float64 arrays, as
 * the NIQE pristine parameters ship. Only what those files need: dtype '<f8', C or Fortran order
 * (returned in C order).
 */
import { unzipSync } from 'fflate';

export interface NpyArray {
  shape: number[];
  data: Float64Array;
}

/** Parses one `.npy` file (format versions 1 to 3). */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f8') throw new Error(`unsupported .npy dtype ${descr ?? '?'} (want <f8)`);
  if (fortran === undefined) throw new Error('.npy header without fortran_order');
  if (shapeText === undefined) throw new Error('.npy header without a shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (bytes.byteLength - offset < count * 8) throw new Error('.npy file is truncated');
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + i * 8, true);
  return { shape, data: fortran === 'True' ? toCOrder(data, shape) : data };
}

/** Reorders a column-major (Fortran) array to row-major. */
function toCOrder(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    let stride = 1;
    for (let d = 0; d < shape.length; d++) {
      f += index[d] * stride;
      stride *= shape[d];
    }
    out[c] = data[f];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Every array of an `.npz` archive, by name (without the `.npy` suffix). */
export function parseNpz(bytes: Uint8Array): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [name, file] of Object.entries(unzipSync(bytes))) {
    if (name.endsWith('.npy')) out.set(name.slice(0, -4), parseNpy(file));
  }
  return out;
}
