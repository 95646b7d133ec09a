/**
 * Named model weights for the architecture modules: looks tensors up by name, converts them to
 * the graph's precision, checks shapes, and remembers which tensors were used so a conversion
 * that leaves weights behind (a wrong architecture guess) fails instead of silently dropping them.
 */
import { float32ToHalfArray } from '../../engine/latent/float16.ts';
import {
  tensorToFloat32,
  type SafetensorsEntry,
  type SafetensorsFile,
} from '../../engine/latent/safetensors.ts';

export class WeightStore {
  private readonly used = new Set<string>();

  constructor(
    private readonly file: SafetensorsFile,
    readonly label: string,
    /** Prefix stripped from tensor names (e.g. 'encoder.' for a combined checkpoint). */
    private readonly prefix = '',
  ) {}

  /** Tensor names without the prefix. */
  names(): string[] {
    return [...this.file.tensors.keys()]
      .filter((n) => n.startsWith(this.prefix))
      .map((n) => n.slice(this.prefix.length));
  }

  has(name: string): boolean {
    return this.file.tensors.has(this.prefix + name);
  }

  entry(name: string): SafetensorsEntry {
    const t = this.file.tensors.get(this.prefix + name);
    if (!t) throw new Error(`${this.label}: missing tensor ${this.prefix + name}`);
    return t;
  }

  shape(name: string): readonly number[] {
    return this.entry(name).shape;
  }

  /** Float32 values; checks the shape when `expect` is given (-1 matches any size). */
  f32(name: string, expect?: readonly number[]): Float32Array {
    const t = this.entry(name);
    if (expect) {
      const ok =
        expect.length === t.shape.length && expect.every((d, i) => d < 0 || d === t.shape[i]);
      if (!ok) {
        throw new Error(
          `${this.label}: tensor ${this.prefix + name} has shape [${t.shape.join(', ')}], expected [${expect.join(', ')}]`,
        );
      }
    }
    this.used.add(name);
    return tensorToFloat32(t);
  }

  /** Names never read: a non-empty list means the architecture did not consume the whole checkpoint. */
  unused(): string[] {
    return this.names().filter((n) => !this.used.has(n));
  }

  assertAllUsed(): void {
    const left = this.unused();
    if (left.length) {
      throw new Error(
        `${this.label}: ${left.length} tensor(s) not used by the architecture: ${left.slice(0, 8).join(', ')}${left.length > 8 ? ', ...' : ''}`,
      );
    }
  }
}

export type Precision = 'fp32' | 'fp16';

/** Weight data in the graph's precision (fp16 as raw half bits). */
export function toPrecision(
  values: Float32Array,
  precision: Precision,
): Float32Array | Uint16Array {
  return precision === 'fp16' ? float32ToHalfArray(values) : values;
}
