/**
 * State of the model manager (zustand): installed packs, storage estimate and persistence, and the
 * install in progress with its last error. The work itself happens in the pack store worker.
 */
import { create } from 'zustand';
import type { PackInstallFailure } from '../../../workers/contract/pack-store-protocol.ts';
import {
  packStore,
  type InstalledPack,
  type InstallProgress,
  type InstallSource,
} from './pack-store-client.ts';
import { errorText } from '../../../workers/contract/error-text.ts';

export interface StorageInfo {
  usage: number;
  quota: number;
}

export interface ModelManagerState {
  packs: InstalledPack[];
  listed: boolean;
  listError: string | null;
  storage: StorageInfo | null;
  /** navigator.storage.persisted(); null where the browser cannot say. */
  persisted: boolean | null;
  installing: boolean;
  progress: InstallProgress | null;
  /** What the running (or last) install came from, for the retry button. */
  lastSource: InstallSource | null;
  installError: PackInstallFailure | null;
  /** Name of the pack the last install put in. */
  installed: string | null;

  refresh(): Promise<void>;
  install(source: InstallSource): Promise<void>;
  retry(): Promise<void>;
  cancelInstall(): void;
  remove(id: string): Promise<void>;
  dismissError(): void;
}

async function storageInfo(): Promise<StorageInfo | null> {
  if (!navigator.storage?.estimate) return null;
  const { usage, quota } = await navigator.storage.estimate();
  return usage === undefined || quota === undefined ? null : { usage, quota };
}

/**
 * Asks the browser to keep this site's storage under pressure (no prompt in Chromium: granted by
 * heuristics such as an installed app or a bookmark). Asked when a pack is installed.
 */
async function askPersistence(): Promise<boolean | null> {
  if (!navigator.storage?.persist) return null;
  try {
    return (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch {
    return null;
  }
}

export const useModelManager = create<ModelManagerState>()((set, get) => ({
  packs: [],
  listed: false,
  listError: null,
  storage: null,
  persisted: null,
  installing: false,
  progress: null,
  lastSource: null,
  installError: null,
  installed: null,

  async refresh() {
    try {
      const [packs, storage, persisted] = await Promise.all([
        packStore().list(),
        storageInfo(),
        navigator.storage?.persisted?.().catch(() => null) ?? Promise.resolve(null),
      ]);
      set({ packs, storage, persisted, listed: true, listError: null });
    } catch (error) {
      set({ listed: true, listError: `Installed packs could not be read: ${errorText(error)}` });
    }
  },

  async install(source) {
    if (get().installing) return;
    set({
      installing: true,
      progress: null,
      lastSource: source,
      installError: null,
      installed: null,
    });
    const persisted = askPersistence().then((p) => set({ persisted: p }));
    try {
      const outcome = await packStore().install(source, (progress) => set({ progress }));
      if (outcome.ok) set({ installed: outcome.pack.name, lastSource: null });
      else set({ installError: outcome.error });
    } catch (error) {
      set({
        installError: { code: 'storage', message: `The install failed: ${errorText(error)}` },
      });
    } finally {
      set({ installing: false });
      await persisted;
      await get().refresh();
    }
  },

  async retry() {
    const source = get().lastSource;
    if (source) await get().install(source);
  },

  cancelInstall() {
    void packStore()
      .cancelInstall()
      .catch(() => undefined);
  },

  async remove(id) {
    try {
      await packStore().remove(id);
    } catch (error) {
      set({ listError: errorText(error) });
    }
    await get().refresh();
  },

  dismissError() {
    set({ installError: null });
  },
}));
