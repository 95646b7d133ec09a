/**
 * The batch queue in IndexedDB (idb): every item with its source file and, once done, its
 * result, so finished results survive a reload until the user clears them and unfinished items
 * can be resumed.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BatchItem } from './batch-types.ts';

interface BatchSchema extends DBSchema {
  items: { key: string; value: BatchItem };
}

const DB_NAME = 'gendr-batch';
let db: Promise<IDBPDatabase<BatchSchema>> | null = null;

function open(): Promise<IDBPDatabase<BatchSchema>> {
  db ??= openDB<BatchSchema>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('items', { keyPath: 'id' });
    },
  });
  return db;
}

export async function loadItems(): Promise<BatchItem[]> {
  const items = await (await open()).getAll('items');
  return items.sort((a, b) => a.order - b.order);
}

export async function saveItem(item: BatchItem): Promise<void> {
  await (await open()).put('items', item);
}

export async function deleteItems(ids: readonly string[]): Promise<void> {
  const tx = (await open()).transaction('items', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}
