/**
 * Sequential reader of an ncnn `.bin` weight file. Layers read their blobs in param order:
 * a Convolution's weights start with a 4-byte tag (0x01306B47: float16, padded to 4 bytes; 0:
 * float32), its bias and a PReLU's slopes are raw float32 without a tag.
 */
export const TAG_FP16 = 0x01306b47;
export const TAG_FP32 = 0;

export class NcnnBinReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly source = '.bin',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      throw new Error(
        `${this.source}: ${what} needs ${n} bytes at ${this.offset}, file has ${this.bytes.length}`,
      );
    }
  }

  /** `count` float32 values without a tag. */
  raw(count: number, what: string): Float32Array {
    this.need(count * 4, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(this.offset + 4 * i, true);
    this.offset += count * 4;
    return out;
  }

  /** `count` values after a type tag (fp16 or fp32), as float32. */
  tagged(count: number, what: string): Float32Array {
    this.need(4, what);
    const tag = this.view.getUint32(this.offset, true);
    this.offset += 4;
    if (tag === TAG_FP32) return this.raw(count, what);
    if (tag !== TAG_FP16) {
      throw new Error(
        `${this.source}: ${what}: unsupported weight tag 0x${tag.toString(16).padStart(8, '0')} at ${this.offset - 4}`,
      );
    }
    const padded = (count * 2 + 3) & ~3;
    this.need(padded, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++)
      out[i] = halfToFloat(this.view.getUint16(this.offset + 2 * i, true));
    this.offset += padded;
    return out;
  }

  /** Throws unless every byte has been read. */
  assertEnd(): void {
    if (this.offset !== this.bytes.length) {
      throw new Error(
        `${this.source}: read ${this.offset} of ${this.bytes.length} bytes; the param and bin disagree`,
      );
    }
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
