/**
 * Runs a compiled Program (program.ts) on the hand-written WASM kernels, one thread: an
 * EngineSession, so the engine's tiling (upscaleImage) drives it like an onnxruntime session.
 *
 * Memory: weights are copied into the kernel instance once; activation buffers are laid out for
 * the input size of the call (re-laid when it changes) and reused by liveness, pooled by shape so a
 * reused buffer's zero border is still zero.
 */
import type {
  EngineSession,
  EngineTensor,
  TensorData,
  TensorFactory,
  TensorType,
} from '../session.ts';
import { cubicResize } from './cubic-resize.ts';
import {
  compileProgram,
  type CompileOptions,
  type ConvStep,
  type Program,
  type SliceRef,
  WINOGRAD_TILE,
} from './program.ts';
import {
  ARGS_OFFSET,
  CONTROL_BYTES,
  DONE,
  FN,
  HELPER_FUNCTIONS,
  HELPER_STACK_BYTES,
  MAX_ARGS,
  SEQ,
  type HelperFunction,
  type HelperInit,
} from './helper-protocol.ts';
import { paddedFloats, WasmKernels, zeroBorder } from './wasm-kernels.ts';

const TB = 32; // Winograd tiles per block: an upper bound of TB in kernels.c
const FLAG_RELU = 1;
const FLAG_RESIDUAL = 2;
const FLAG_PRELU = 4;

interface Layout {
  width: number;
  height: number;
  /** Buffer id -> byte offset. */
  ptr: number[];
  /** Winograd scratch per thread (owner first). */
  scratchV: number[];
  scratchM: number[];
  slices: number;
}

/** Starts a helper thread running runHelperLoop(init); `ready` resolves when its loop runs. */
export type SpawnHelper = (init: HelperInit) => { ready: Promise<void>; terminate(): void };

/** Plain tensors (the engine only reads type, dims and data). */
export const plainTensors: TensorFactory = {
  tensor(type: TensorType, data: TensorData, dims: readonly number[]): EngineTensor {
    return { type, data, dims: [...dims] };
  },
};

export class KernelProgramRunner {
  private readonly weightPtrs: number[][];
  private readonly biasPtrs: number[];
  /** Per step, its PReLU slopes (0 when it has none). */
  private readonly slopePtrs: number[];
  private readonly weightsMark: number;
  private layout: Layout | null = null;
  /**
   * When set, milliseconds per step kind are added here: 'winograd3', 'direct1', 'lincomb', ...,
   * with '@2x' etc. for convolutions above the input resolution (a super-resolution net's tail).
   */
  profile: Map<string, number> | null = null;

  private readonly helpers: { control: number; seq: number; terminate(): void }[] = [];
  /** Resolves when every helper thread is ready (wait for it before the first run). */
  readonly ready: Promise<void>;

  constructor(
    readonly program: Program,
    private readonly kernels: WasmKernels,
    spawn?: SpawnHelper,
    threads = 1,
  ) {
    const starting: Promise<void>[] = [];
    for (let t = 1; spawn && t < threads; t++) {
      const control = kernels.alloc(CONTROL_BYTES / 4);
      const stack = kernels.alloc(HELPER_STACK_BYTES / 4);
      const handle = spawn({
        module: kernels.module,
        memory: kernels.memory,
        control,
        stackTop: stack + HELPER_STACK_BYTES,
      });
      this.helpers.push({ control, seq: 0, terminate: handle.terminate });
      starting.push(handle.ready);
    }
    this.ready = Promise.all(starting).then(() => undefined);
    this.weightPtrs = [];
    this.biasPtrs = [];
    this.slopePtrs = [];
    for (const step of program.steps) {
      if (step.kind !== 'conv') {
        this.weightPtrs.push([]);
        this.biasPtrs.push(0);
        this.slopePtrs.push(0);
        continue;
      }
      this.weightPtrs.push(step.weights.map((w) => kernels.put(w)));
      this.biasPtrs.push(kernels.put(step.bias));
      this.slopePtrs.push(step.slope ? kernels.put(step.slope) : 0);
    }
    this.weightsMark = kernels.mark();
  }

  /** Lays out activation buffers for a width x height input, reusing memory by liveness. */
  private layoutFor(width: number, height: number): Layout {
    if (this.layout?.width === width && this.layout.height === height) return this.layout;
    const { program, kernels } = this;
    kernels.release(this.weightsMark);
    const lastUse = new Array<number>(program.buffers.length).fill(-1);
    const use = (buf: number, i: number) => (lastUse[buf] = Math.max(lastUse[buf], i));
    program.steps.forEach((s, i) => {
      if (s.kind === 'conv') {
        s.inputs.forEach((x) => use(x.buf, i));
        if (s.residual) use(s.residual.buf, i);
        use(s.out.buf, i);
      } else if (s.kind === 'lincomb') {
        use(s.x, i);
        if (s.y !== null) use(s.y, i);
        use(s.out, i);
      } else if (s.kind === 'd2s') {
        use(s.src, i);
        use(s.dst, i);
      } else use(s.src, i);
    });
    const ptr = new Array<number>(program.buffers.length).fill(-1);
    const pool = new Map<string, number[]>();
    const key = (b: number) => `${program.buffers[b].channels}@${program.buffers[b].scale}`;
    const acquire = (b: number) => {
      if (ptr[b] >= 0) return;
      const free = pool.get(key(b));
      if (free?.length) ptr[b] = free.pop() as number;
      else {
        // Every layer writes its whole interior before anything reads it: only the border
        // (the convolutions' zero padding) needs zeroing, which keeps re-layouts for another tile
        // size cheap.
        const { channels, scale } = program.buffers[b];
        ptr[b] = kernels.alloc(paddedFloats(width * scale, height * scale, channels), false);
        zeroBorder(kernels.memory, ptr[b], width * scale, height * scale, channels);
      }
    };
    acquire(0);
    program.steps.forEach((s, i) => {
      if (s.kind === 'conv') acquire(s.out.buf);
      else if (s.kind === 'lincomb') acquire(s.out);
      else if (s.kind === 'd2s') acquire(s.dst);
      for (let b = 0; b < lastUse.length; b++) {
        if (lastUse[b] === i && ptr[b] >= 0 && b !== 0) {
          const list = pool.get(key(b)) ?? [];
          list.push(ptr[b]);
          pool.set(key(b), list);
        }
      }
    });
    let maxCi = 0;
    let maxCo = 0;
    let maxSlices = 1;
    for (const s of program.steps) {
      if (s.kind !== 'conv') continue;
      maxCi = Math.max(
        maxCi,
        s.inputs.reduce((a, x) => a + x.channels, 0),
      );
      maxCo = Math.max(maxCo, s.coPadded);
      maxSlices = Math.max(maxSlices, s.inputs.length);
    }
    const threads = this.helpers.length + 1;
    this.layout = {
      width,
      height,
      ptr,
      scratchV: Array.from({ length: threads }, () =>
        kernels.alloc(WINOGRAD_TILE ** 2 * TB * maxCi),
      ),
      scratchM: Array.from({ length: threads }, () =>
        kernels.alloc(WINOGRAD_TILE ** 2 * TB * maxCo),
      ),
      slices: kernels.alloc(4 * maxSlices),
    };
    return this.layout;
  }

  private slicePtr(layout: Layout, s: SliceRef): number {
    return layout.ptr[s.buf] + s.offset * 4;
  }

  private writeSlices(layout: Layout, step: ConvStep, weights: number[]): void {
    const table = this.kernels.i32(layout.slices, 4 * step.inputs.length);
    step.inputs.forEach((s, i) => {
      table[4 * i] = this.slicePtr(layout, s);
      table[4 * i + 1] = this.program.buffers[s.buf].channels;
      table[4 * i + 2] = s.channels;
      table[4 * i + 3] = step.algo === 'direct' ? weights[i] : 0;
    });
  }

  /** Runs the program on NCHW float32 input [1, C, height, width]; returns NCHW output. */
  run(input: Float32Array, width: number, height: number): Float32Array {
    const { program, kernels } = this;
    const layout = this.layoutFor(width, height);
    const k = kernels.k;
    const inPtr = kernels.alloc(input.length, false);
    kernels.f32(inPtr, input.length).set(input);
    const channels = program.buffers[0].channels;
    k.nchw_to_nhwc(inPtr, channels, height, width, layout.ptr[0], channels);
    program.steps.forEach((step, i) => {
      const started = this.profile ? performance.now() : 0;
      this.runStep(layout, step, i, width, height);
      if (this.profile) {
        const scale = step.kind === 'conv' ? program.buffers[step.out.buf].scale : 1;
        const key =
          step.kind === 'conv'
            ? `${step.algo}${step.k}${scale > 1 ? `@${scale}x` : ''}`
            : step.kind;
        this.profile.set(key, (this.profile.get(key) ?? 0) + performance.now() - started);
      }
    });
    kernels.release(inPtr);
    const out = this.result;
    this.result = new Float32Array(0);
    return out;
  }

  private result: Float32Array = new Float32Array(0);

  /**
   * Runs kernel `fn` over [0, total) split in equal parts: helpers get theirs through the control
   * blocks, the owner runs the first part itself, then waits for the helpers.
   */
  private parallel(
    fn: HelperFunction,
    total: number,
    argsFor: (lo: number, hi: number, thread: number) => number[],
  ): void {
    const threads = this.helpers.length + 1;
    const cut = (t: number) => Math.round((total * t) / threads);
    const memory = this.kernels.memory;
    this.helpers.forEach((h, index) => {
      const t = index + 1;
      if (cut(t) === cut(t + 1)) return;
      const args = argsFor(cut(t), cut(t + 1), t);
      if (args.length > MAX_ARGS) throw new Error('kernels: too many arguments for a helper call');
      new Float64Array(memory.buffer, h.control + ARGS_OFFSET, MAX_ARGS).set(args);
      const ctrl = new Int32Array(memory.buffer, h.control, 4);
      Atomics.store(ctrl, FN, HELPER_FUNCTIONS.indexOf(fn));
      h.seq = Atomics.add(ctrl, SEQ, 1) + 1;
      Atomics.notify(ctrl, SEQ);
    });
    if (cut(0) !== cut(1))
      (this.kernels.k[fn] as (...a: number[]) => void)(...argsFor(cut(0), cut(1), 0));
    this.helpers.forEach((h, index) => {
      const t = index + 1;
      if (cut(t) === cut(t + 1)) return;
      const ctrl = new Int32Array(memory.buffer, h.control, 4);
      for (let done = Atomics.load(ctrl, DONE); done !== h.seq; done = Atomics.load(ctrl, DONE))
        Atomics.wait(ctrl, DONE, done);
    });
  }

  /** Stops the helper threads. */
  dispose(): void {
    for (const h of this.helpers) {
      const ctrl = new Int32Array(this.kernels.memory.buffer, h.control, 4);
      Atomics.store(ctrl, FN, -1);
      Atomics.add(ctrl, SEQ, 1);
      Atomics.notify(ctrl, SEQ);
      h.terminate();
    }
    this.helpers.length = 0;
  }

  private runStep(
    layout: Layout,
    step: Program['steps'][number],
    i: number,
    width: number,
    height: number,
  ): void {
    const { program, kernels } = this;
    const k = kernels.k;
    {
      if (step.kind === 'conv') {
        const scale = program.buffers[step.out.buf].scale;
        const w = width * scale;
        const h = height * scale;
        this.writeSlices(layout, step, this.weightPtrs[i]);
        const out = this.slicePtr(layout, step.out);
        const outStride = program.buffers[step.out.buf].channels;
        const res = step.residual ? this.slicePtr(layout, step.residual) : 0;
        const resStride = step.residual ? program.buffers[step.residual.buf].channels : 0;
        const flags =
          (step.activation === 'relu' ? FLAG_RELU : 0) |
          (step.activation === 'prelu' ? FLAG_PRELU : 0) |
          (step.residual ? FLAG_RESIDUAL : 0);
        const slope = this.slopePtrs[i];
        if (step.algo === 'winograd') {
          // Output tile side: input tile - kernel + 1.
          const m = WINOGRAD_TILE - step.k + 1;
          this.parallel('conv_winograd', Math.ceil(h / m), (lo, hi, t) => [
            m,
            layout.slices,
            step.inputs.length,
            w,
            h,
            lo,
            hi,
            this.weightPtrs[i][0],
            this.biasPtrs[i],
            out,
            outStride,
            step.coPadded,
            step.out.channels,
            res,
            resStride,
            flags,
            slope,
            layout.scratchV[t],
            layout.scratchM[t],
          ]);
        } else {
          this.parallel('conv_direct', h, (lo, hi) => [
            layout.slices,
            step.inputs.length,
            step.k,
            w,
            lo,
            hi,
            this.biasPtrs[i],
            out,
            outStride,
            step.coPadded,
            step.out.channels,
            res,
            resStride,
            flags,
            slope,
          ]);
        }
      } else if (step.kind === 'lincomb') {
        const { channels, scale } = program.buffers[step.out];
        const n = paddedFloats(width * scale, height * scale, channels);
        const { out, x, y, a, b } = step;
        this.parallel('lincomb', n / 4, (lo, hi) => [
          layout.ptr[out] + lo * 16,
          layout.ptr[x] + lo * 16,
          a,
          y === null ? 0 : layout.ptr[y] + lo * 16,
          b,
          (hi - lo) * 4,
        ]);
      } else if (step.kind === 'd2s') {
        const src = program.buffers[step.src];
        k.depth_to_space(
          layout.ptr[step.src],
          src.channels,
          program.buffers[step.dst].channels,
          width * src.scale,
          height * src.scale,
          step.block,
          layout.ptr[step.dst],
        );
      } else {
        const src = program.buffers[step.src];
        const w = width * src.scale;
        const h = height * src.scale;
        const n = step.channels * w * h * step.block * step.block;
        const outPtr = kernels.alloc(n, false); // to_nchw writes every value
        this.parallel('to_nchw', h, (lo, hi) => [
          layout.ptr[step.src],
          src.channels,
          step.channels,
          w,
          h,
          step.block,
          step.clip[0],
          step.clip[1],
          outPtr,
          lo,
          hi,
          step.addUpsampledInput ? layout.ptr[0] : 0,
          program.buffers[0].channels,
          src.scale * step.block,
        ]);
        const nchw = kernels.f32(outPtr, n);
        const resize = program.finalResize;
        this.result = resize
          ? cubicResize(
              nchw,
              step.channels,
              w * step.block,
              h * step.block,
              resize.factor,
              resize.clip,
            ).data
          : nchw.slice();
        kernels.release(outPtr);
      }
    }
  }
}

/** A single-threaded EngineSession on the hand-written kernels. */
export interface KernelSessionOptions extends CompileOptions {
  /** Threads (the caller's + helpers); helpers need `spawnHelper`. */
  threads?: number;
  spawnHelper?: SpawnHelper;
}

export async function createKernelSession(
  modelBytes: Uint8Array,
  wasm: BufferSource | WebAssembly.Module,
  options: KernelSessionOptions = {},
): Promise<EngineSession & { runner: KernelProgramRunner }> {
  const program = compileProgram(modelBytes, options);
  const runner = new KernelProgramRunner(
    program,
    await WasmKernels.create(wasm),
    options.spawnHelper,
    options.threads ?? 1,
  );
  await runner.ready;
  return {
    release: async () => runner.dispose(),
    runner,
    inputNames: [program.inputName],
    outputNames: [program.outputName],
    async run(feeds: Record<string, EngineTensor>): Promise<Record<string, EngineTensor>> {
      const x = feeds[program.inputName];
      if (!x || !(x.data instanceof Float32Array))
        throw new Error(`kernels: feed ${program.inputName} must be float32`);
      const [n, c, h, w] = x.dims;
      if (n !== 1 || c !== program.buffers[0].channels)
        throw new Error(
          `kernels: input must be [1, ${program.buffers[0].channels}, H, W], got [${x.dims.join(', ')}]`,
        );
      const data = runner.run(x.data, w, h);
      const s = program.scale;
      return {
        [program.outputName]: {
          type: 'float32',
          data,
          dims: [1, program.outChannels, h * s, w * s],
        },
      };
    },
  };
}
