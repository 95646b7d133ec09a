/**
 * One instance of the hand-written kernels (kernels.c compiled to WebAssembly) with its own linear
 * memory and a bump allocator. Pointers are byte offsets; views are refreshed after memory grows.
 */

export interface KernelExports {
  conv_direct(...args: number[]): void;
  conv_winograd(...args: number[]): void;
  lincomb(z: number, x: number, a: number, y: number, b: number, n: number): void;
  fill_zero(p: number, n: number): void;
  nchw_to_nhwc(src: number, c: number, h: number, w: number, dst: number, stride: number): void;
  depth_to_space(
    src: number,
    srcStride: number,
    c: number,
    w: number,
    h: number,
    s: number,
    dst: number,
  ): void;
  to_nchw(
    src: number,
    stride: number,
    c: number,
    w: number,
    h: number,
    s: number,
    lo: number,
    hi: number,
    dst: number,
    y0: number,
    y1: number,
    skip: number,
    skipStride: number,
    skipFactor: number,
  ): void;
}

/** Border of the padded NHWC layout (must match PADL / PADR in kernels.c). */
export const PAD_LEFT = 2;
export const PAD_RIGHT = 6;

/**
 * Zeroes the border of a padded NHWC buffer (w x h pixels, c channels) at byte offset `ptr`. The
 * kernels write only the interior and read the border as 'same' padding, so a fresh buffer needs
 * only this, not a full fill.
 */
export function zeroBorder(
  memory: WebAssembly.Memory,
  ptr: number,
  w: number,
  h: number,
  c: number,
) {
  const view = new Float32Array(memory.buffer, ptr, paddedFloats(w, h, c));
  const row = (w + PAD_LEFT + PAD_RIGHT) * c;
  view.fill(0, 0, PAD_LEFT * row);
  view.fill(0, (PAD_LEFT + h) * row);
  for (let y = PAD_LEFT; y < PAD_LEFT + h; y++) {
    view.fill(0, y * row, y * row + PAD_LEFT * c);
    view.fill(0, y * row + (PAD_LEFT + w) * c, (y + 1) * row);
  }
}

/** Floats of a padded NHWC buffer of w x h pixels and c channels. */
export function paddedFloats(w: number, h: number, c: number): number {
  return (w + PAD_LEFT + PAD_RIGHT) * (h + PAD_LEFT + PAD_RIGHT) * c;
}

export class WasmKernels {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  private heapBase: number;
  private top: number;

  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;

  private constructor(
    module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
  ) {
    this.module = module;
    this.instance = instance;
    this.memory = memory;
    this.k = instance.exports as unknown as KernelExports;
    this.heapBase = align((instance.exports.__heap_base as WebAssembly.Global).value as number);
    this.top = this.heapBase;
  }

  /** A fresh instance with its own shared memory (shared so helper threads can join it). */
  static async create(wasm: BufferSource | WebAssembly.Module): Promise<WasmKernels> {
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
    const module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm);
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return new WasmKernels(module, instance, memory);
  }

  /** Another instance on the same memory (in a helper thread), with its own stack ending at `stackTop`. */
  static async attach(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    stackTop: number,
  ): Promise<WasmKernels> {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    (instance.exports.__stack_pointer as WebAssembly.Global).value = stackTop;
    return new WasmKernels(module, instance, memory);
  }

  /**
   * Allocates `floats` floats (64-byte aligned) and returns the byte offset. Zero-filled unless
   * `zero` is false (for memory the caller overwrites entirely, or whose border it zeroes itself).
   */
  alloc(floats: number, zero = true): number {
    const p = align(this.top);
    const end = p + floats * 4;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / 65536);
      this.memory.grow(pages);
    }
    this.top = end;
    if (zero) new Float32Array(this.memory.buffer, p, floats).fill(0);
    return p;
  }

  /** Current allocation mark, to free everything allocated after it with `release`. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = Math.max(this.heapBase, mark);
  }

  f32(ptr: number, floats: number): Float32Array<ArrayBufferLike> {
    return new Float32Array(this.memory.buffer, ptr, floats);
  }

  i32(ptr: number, count: number): Int32Array<ArrayBufferLike> {
    return new Int32Array(this.memory.buffer, ptr, count);
  }

  /** Copies `data` into fresh memory and returns its offset. */
  put(data: Float32Array): number {
    const p = this.alloc(data.length);
    this.f32(p, data.length).set(data);
    return p;
  }
}

function align(n: number): number {
  return (n + 63) & ~63;
}
