/**
 * The pack store's Comlink API (see protocol.ts). Changes to the store (install, delete, cleanup)
 * take one Web Lock, so two tabs never write it at once, and cleanup never removes the folder of
 * an install that is still running.
 */
import * as Comlink from 'comlink';
import { PackInstallError } from './errors.ts';
import { asInstallError, installPack } from './installer.ts';
import {
  listInstalled,
  packFolders,
  packsRoot,
  removeFolder,
  removeOrphanMarkers,
} from '../opfs/opfs-store.ts';
import type {
  InstallEvents,
  InstallOutcome,
  InstallSource,
  PackStoreApi,
} from '../contract/pack-store-protocol.ts';

export const STORE_LOCK = 'gendr-pack-store';

/** Runs `fn` holding the store lock, or returns null at once when someone else holds it. */
async function withLock<T>(fn: () => Promise<T>): Promise<T | null> {
  if (!navigator.locks) return fn();
  return navigator.locks.request(STORE_LOCK, { ifAvailable: true }, async (lock) =>
    lock ? fn() : null,
  );
}

async function removeUnfinished(): Promise<number> {
  const root = await packsRoot();
  let removed = 0;
  for (const folder of await packFolders(root)) {
    if (folder.marker) continue;
    await removeFolder(root, folder.name).catch(() => undefined);
    removed++;
  }
  await removeOrphanMarkers(root).catch(() => undefined);
  return removed;
}

export function createPackStoreService(): PackStoreApi {
  let running: AbortController | null = null;

  return {
    list: () => listInstalled(),

    async install(source: InstallSource, events: InstallEvents): Promise<InstallOutcome> {
      const controller = new AbortController();
      const progress = (p: Parameters<InstallEvents['progress']>[0]) => {
        void Promise.resolve(events.progress(p)).catch(() => undefined);
      };
      try {
        const outcome = await withLock(async (): Promise<InstallOutcome> => {
          running = controller;
          try {
            await removeUnfinished();
            const pack = await installPack(source, { signal: controller.signal, progress });
            return { ok: true, pack };
          } catch (error) {
            return { ok: false, error: asInstallError(error, controller.signal).toFailure() };
          } finally {
            if (running === controller) running = null;
          }
        });
        return (
          outcome ?? {
            ok: false,
            error: new PackInstallError(
              'busy',
              'Another pack is being installed (in this tab or another one). Try again when it has finished.',
            ).toFailure(),
          }
        );
      } catch (error) {
        return { ok: false, error: asInstallError(error, controller.signal).toFailure() };
      } finally {
        (events as Partial<Comlink.Remote<InstallEvents>>)[Comlink.releaseProxy]?.();
      }
    },

    cancelInstall(): void {
      running?.abort();
    },

    async remove(id: string): Promise<boolean> {
      const done = await withLock(async () => {
        const root = await packsRoot();
        let found = false;
        for (const folder of await packFolders(root)) {
          if (folder.marker?.id !== id) continue;
          await removeFolder(root, folder.name);
          found = true;
        }
        return found;
      });
      if (done === null)
        throw new Error('The pack store is busy with an install; try again when it has finished.');
      return done;
    },

    async cleanup(): Promise<number> {
      return (await withLock(removeUnfinished)) ?? 0;
    },
  };
}
