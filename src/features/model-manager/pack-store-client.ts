/**
 * The page's handle on the pack store worker (workers/pack-store/), through Comlink.
 * Picked and dropped File objects travel to it by reference, never copied.
 */
import * as Comlink from 'comlink';
import type {
  InstalledPack,
  InstallOutcome,
  InstallProgress,
  InstallSource,
  PackStoreApi,
} from '../../../workers/contract/pack-store-protocol.ts';

export type { InstalledPack, InstallOutcome, InstallProgress, InstallSource };

export class PackStoreClient {
  private readonly api: Comlink.Remote<PackStoreApi>;

  constructor() {
    const worker = new Worker(
      new URL('../../../workers/pack-store/pack-store.worker.ts', import.meta.url),
      { type: 'module', name: 'gendr-pack-store' },
    );
    this.api = Comlink.wrap<PackStoreApi>(worker);
  }

  list(): Promise<InstalledPack[]> {
    return this.api.list();
  }

  install(
    source: InstallSource,
    onProgress: (progress: InstallProgress) => void,
  ): Promise<InstallOutcome> {
    return this.api.install(source, Comlink.proxy({ progress: onProgress }));
  }

  cancelInstall(): Promise<void> {
    return this.api.cancelInstall();
  }

  remove(id: string): Promise<boolean> {
    return this.api.remove(id);
  }

  cleanup(): Promise<number> {
    return this.api.cleanup();
  }
}

let client: PackStoreClient | null = null;

export function packStore(): PackStoreClient {
  client ??= new PackStoreClient();
  return client;
}
