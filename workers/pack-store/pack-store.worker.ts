/**
 * The pack store worker: installs, lists and deletes model packs in the origin private file
 * system. A worker of its own, so a big install (sync access handles exist only in dedicated
 * workers) never waits for a restore, nor a restore for it.
 */
import * as Comlink from 'comlink';
import { createPackStoreService } from './pack-store-service.ts';

Comlink.expose(createPackStoreService());
