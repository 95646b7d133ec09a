/** Starts the service worker and tells the update flow when the app is busy restoring. */
import { batchBusy } from '../features/batch/batch-store.ts';
import { isActive, useAppStore } from '../state/store.ts';
import { registerBusyCheck } from './busy.ts';
import { registerServiceWorker } from './register-sw.ts';

export function startPwa(): void {
  registerBusyCheck(() => isActive(useAppStore.getState().run?.phase) || batchBusy());
  registerServiceWorker();
}
