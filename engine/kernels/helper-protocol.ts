/**
 * How the kernel session and its helper threads share work: a control block in the shared wasm
 * memory (Int32 sequence / done counters, Float64 call arguments). The owner writes a call, bumps
 * `seq` and notifies; each helper runs it and bumps `done`. No postMessage per layer.
 */
import { WasmKernels } from './wasm-kernels.ts';

/** Kernel functions a helper can be asked to run, by id. */
export const HELPER_FUNCTIONS = ['conv_direct', 'conv_winograd', 'lincomb', 'to_nchw'] as const;
export type HelperFunction = (typeof HELPER_FUNCTIONS)[number];

/** Int32 slots of the control block. */
export const SEQ = 0;
export const DONE = 1;
export const FN = 2;
/** Byte offset of the Float64 arguments inside a helper's control block. */
export const ARGS_OFFSET = 64;
export const MAX_ARGS = 20;
/** Bytes of one helper's control block. */
export const CONTROL_BYTES = ARGS_OFFSET + 8 * MAX_ARGS;
/** Stack of a helper instance. */
export const HELPER_STACK_BYTES = 256 * 1024;

export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of this helper's control block. */
  control: number;
  stackTop: number;
}

/**
 * The helper's side: blocks its thread, running calls until told to stop (fn = -1). `onReady` is
 * called once the instance exists: the owner must not block before that (a browser starts a nested
 * worker through its parent's event loop).
 */
export async function runHelperLoop(init: HelperInit, onReady: () => void): Promise<void> {
  const kernels = await WasmKernels.attach(init.module, init.memory, init.stackTop);
  onReady();
  const fns = HELPER_FUNCTIONS.map((name) => kernels.k[name] as (...args: number[]) => void);
  let seen = 0;
  for (;;) {
    const ctrl = new Int32Array(init.memory.buffer, init.control, 4);
    Atomics.wait(ctrl, SEQ, seen);
    seen = Atomics.load(ctrl, SEQ);
    const fn = Atomics.load(ctrl, FN);
    if (fn < 0) break;
    const args = new Float64Array(init.memory.buffer, init.control + ARGS_OFFSET, MAX_ARGS);
    fns[fn](...Array.from(args));
    Atomics.store(ctrl, DONE, seen);
    Atomics.notify(ctrl, DONE);
  }
}
