/**
 * Browser glue for the kernel session: helper threads as module workers, and which kernel build
 * this browser can run (relaxed SIMD where WebAssembly validates it, plain SIMD128 otherwise).
 */
import type { HelperInit } from '../../../engine/kernels/helper-protocol.ts';
import type { SpawnHelper } from '../../../engine/kernels/kernel-session.ts';

export const spawnBrowserHelper: SpawnHelper = (init: HelperInit) => {
  const worker = new Worker(new URL('./kernel-helper.worker.ts', import.meta.url), {
    type: 'module',
    name: 'gendr-kernel-helper',
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => reject(new Error(event.message || 'kernel helper failed to start'));
  });
  worker.postMessage(init);
  return { ready, terminate: () => worker.terminate() };
};

/** A module whose only function uses f32x4.relaxed_madd (opcode 0xfd 0x85 0x02). */
const RELAXED_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b,
  0x03,
  0x02,
  0x01,
  0x00,
  0x0a,
  0x3d,
  0x01,
  0x3b,
  0x00,
  0xfd,
  0x0c,
  ...new Array(16).fill(0),
  0xfd,
  0x0c,
  ...new Array(16).fill(0),
  0xfd,
  0x0c,
  ...new Array(16).fill(0),
  0xfd,
  0x85,
  0x02,
  0x0b,
]);

/** True when this engine runs relaxed SIMD (Chromium 114+, Firefox behind a flag). */
export function hasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** Whether threads can share memory here (cross-origin isolated). */
export function canShareMemory(): boolean {
  return (
    typeof SharedArrayBuffer !== 'undefined' &&
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true
  );
}
