/**
 * How long a restore will take on this device, before it starts. A convolutional SR model does
 * about as many multiply-adds per input pixel as it has weights (its trunk runs at the input's
 * resolution): Real-ESRGAN x4plus 16.7M weights, 17.9M MACs per pixel; SRVGG 1.2M and 1.2M. The
 * device's speed in MACs per millisecond is learnt from each finished run, per backend, and
 * kept in localStorage; before the first run a cautious prior is used.
 */
import type { BackendName } from '../../workers/contract/restore-protocol.ts';
import type { AppModel } from './model-index.ts';

/** Multiply-adds per millisecond before any run was measured (a 2-core laptop on WASM). */
const PRIOR_MACS_PER_MS: Record<BackendName, number> = { wasm: 4e6, webgpu: 2e8 };
const KEY = 'gendr-speed-';

function bytesPerWeight(model: AppModel): number {
  return model.descriptor.kind === 'pack' && model.descriptor.pack.precision === 'fp16' ? 2 : 4;
}

/** Multiply-adds to restore a width x height input with `model` (null for packs). */
export function estimateMacs(model: AppModel, width: number, height: number): number | null {
  if (model.descriptor.kind !== 'builtin') return null;
  return (model.bytes / bytesPerWeight(model)) * 1.07 * width * height;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function measuredSpeed(backend: BackendName): number | null {
  const value = Number(storage()?.getItem(KEY + backend));
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Learns from a finished run (a running mean that favours recent runs). */
export function recordRun(
  model: AppModel,
  width: number,
  height: number,
  backend: BackendName,
  runMs: number,
): void {
  const macs = estimateMacs(model, width, height);
  if (macs === null || runMs < 50) return;
  const speed = macs / runMs;
  const old = measuredSpeed(backend);
  storage()?.setItem(KEY + backend, String(old ? old * 0.5 + speed * 0.5 : speed));
}

/** Estimated milliseconds, or null where no estimate can be made (packs). */
export function estimateMs(
  model: AppModel,
  width: number,
  height: number,
  backend: BackendName,
): number | null {
  const macs = estimateMacs(model, width, height);
  if (macs === null) return null;
  return macs / (measuredSpeed(backend) ?? PRIOR_MACS_PER_MS[backend]);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return 'under a second';
  const s = ms / 1000;
  if (s < 90) return `about ${Math.max(1, Math.round(s))} s`;
  return `about ${Math.round(s / 60)} min`;
}
