/**
 * Registers the service worker (built by vite-plugin-pwa, see pwa-options.ts) with workbox-window
 * and runs the update flow: a new version waits until the user accepts it, and then still waits
 * until no restore is running before it takes over and the page reloads. When another tab makes a
 * new version take over, this tab reloads only once it is idle too.
 */
import { Workbox } from 'workbox-window';
import { whenIdle } from './busy.ts';
import { usePwa } from './pwa-store.ts';

let workbox: Workbox | null = null;
let reloading = false;

const UPDATE_CHECK_MS = 60 * 60 * 1000;

async function reloadWhenIdle(): Promise<void> {
  if (reloading) return;
  reloading = true;
  await whenIdle();
  window.location.reload();
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const base = import.meta.env.BASE_URL;
  const wb = new Workbox(`${base}sw.js`, { scope: base });
  workbox = wb;
  wb.addEventListener('installed', (event) => {
    if (!event.isUpdate) usePwa.setState({ offlineReady: true });
  });
  wb.addEventListener('waiting', () => usePwa.setState({ updateReady: true }));
  // A new version took over (after the user's go-ahead here or in another tab). The first
  // install also takes over (clientsClaim) a page that had no worker yet: no reload for that.
  let controlled = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (controlled) void reloadWhenIdle();
    controlled = true;
  });
  const register = () =>
    wb
      .register()
      .then(() => {
        setInterval(() => void wb.update().catch(() => undefined), UPDATE_CHECK_MS);
      })
      .catch((error: unknown) =>
        usePwa.setState({
          unavailable: error instanceof Error ? error.message : String(error),
        }),
      );
  // After the page has loaded: the precache download should not compete with the first paint.
  if (document.readyState === 'complete') void register();
  else window.addEventListener('load', () => void register(), { once: true });
}

/** The user accepted the new version: switch once no restore is running, then reload. */
export async function applyUpdate(): Promise<void> {
  usePwa.setState({ updateAccepted: true });
  await whenIdle();
  // The new worker takes over ('controllerchange'), and the page reloads.
  workbox?.messageSkipWaiting();
}
