/**
 * WebGPU device loss: a run on a lost device may never settle, so every run races the device's
 * `lost` promise and fails with DeviceLostError as soon as the device goes.
 */
import type { EngineSession } from '../../../engine/session.ts';

export interface LosableDevice {
  readonly lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
  readonly limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
}

export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';
}

export interface DeviceWatch {
  /** Set once the device is lost. */
  readonly lostReason: string | null;
  /** Rejects with DeviceLostError when the device is lost. */
  readonly whenLost: Promise<never>;
}

export function watchDevice(device: LosableDevice): DeviceWatch {
  let lostReason: string | null = null;
  const whenLost = device.lost.then((info) => {
    lostReason = [info.reason, info.message].filter(Boolean).join(': ') || 'unknown reason';
    throw new DeviceLostError(`the WebGPU device was lost (${lostReason})`);
  });
  whenLost.catch(() => undefined);
  return {
    get lostReason() {
      return lostReason;
    },
    whenLost,
  };
}

/** Runs fail with DeviceLostError once the device is lost, instead of hanging. */
export function withDeviceWatch(session: EngineSession, watch: DeviceWatch): EngineSession {
  return {
    ...session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      if (watch.lostReason)
        throw new DeviceLostError(`the WebGPU device was lost (${watch.lostReason})`);
      return Promise.race([session.run(feeds), watch.whenLost]);
    },
  };
}
