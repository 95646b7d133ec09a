/**
 * The batch queue (zustand): files dropped or picked together are restored one at a time, each
 * with its own status, thumbnail and result; one or all can be cancelled; finished results are
 * kept in IndexedDB until cleared, and a reload turns unfinished items into resumable ones.
 */
import { create } from 'zustand';
import { saveBlob } from '../../lib/encode-image.ts';
import type { Size } from '../inputs/size-check.ts';
import { deleteItems, loadItems, saveItem } from './batch-db.ts';
import { useAppStore } from '../../state/store.ts';
import { isUnfinished, type BatchItem, type BatchSettings } from './batch-types.ts';
import { fileThumbnail } from './thumbnail.ts';
import { zipResults } from './zip-results.ts';

/** The app's current model and output settings, which a newly queued item keeps. */
function queuedSettings(): BatchSettings | null {
  const { models, modelId, outputScale, format, quality } = useAppStore.getState();
  const model = models.find((m) => m.id === modelId);
  if (!model) return null;
  const scale = outputScale ?? model.scale;
  const modelName = scale === model.scale ? model.name : `${model.name} → ×${scale}`;
  return { modelId: model.id, modelName, scale, format, quality };
}

export interface BatchState {
  items: BatchItem[];
  /** Loaded from IndexedDB (so the panel does not flash empty). */
  loaded: boolean;
  /** The item being restored now. */
  currentId: string | null;
  storageError: string | null;
  zipping: boolean;

  load(): Promise<void>;
  add(files: readonly File[]): Promise<void>;
  /** Changes an item; resolves once the change is stored. */
  update(id: string, patch: Partial<BatchItem>): Promise<void>;
  cancel(id: string): void;
  cancelAll(): void;
  /** Queues a failed, cancelled or interrupted item again. */
  retry(id: string): void;
  resumeAll(): void;
  downscale(id: string, size: Size): void;
  remove(id: string): void;
  /** Removes every item that is not queued or running (results included). */
  clearFinished(): void;
  downloadZip(): Promise<void>;
}

/** Set by the runner (batch-runner.ts), which owns the one worker while the queue runs. */
export const batchHooks = {
  kick: (): void => undefined,
  cancelCurrent: (): void => undefined,
};

let seq = 0;
function newId(): string {
  return `${Date.now().toString(36)}-${(++seq).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export const useBatchStore = create<BatchState>()((set, get) => {
  const persist = (item: BatchItem) =>
    saveItem(item).catch((error: unknown) =>
      set({
        storageError: `Results could not be saved in this browser's storage (${error instanceof Error ? error.message : String(error)}); they are kept until the page is closed.`,
      }),
    );

  const patchItem = (id: string, patch: Partial<BatchItem>, save = true): Promise<void> => {
    let changed: BatchItem | null = null;
    set((state) => ({
      items: state.items.map((item) => {
        if (item.id !== id) return item;
        changed = { ...item, ...patch };
        return changed;
      }),
    }));
    return changed && save ? persist(changed) : Promise.resolve();
  };

  return {
    items: [],
    loaded: false,
    currentId: null,
    storageError: null,
    zipping: false,

    async load() {
      let stored: BatchItem[] = [];
      try {
        stored = await loadItems();
      } catch (error) {
        set({
          storageError: `Saved results could not be read (${error instanceof Error ? error.message : String(error)}).`,
        });
      }
      // Whatever was queued or running when the page went away waits for the user to resume it.
      const items = stored.map((item) =>
        isUnfinished(item.status) ? { ...item, status: 'interrupted' as const, done: 0 } : item,
      );
      for (const item of items) if (item.status === 'interrupted') void persist(item);
      set((state) => ({
        items: [...items, ...state.items.filter((i) => !items.some((s) => s.id === i.id))],
        loaded: true,
      }));
    },

    async add(files) {
      const base = get().items.reduce((n, i) => Math.max(n, i.order), 0);
      const added: BatchItem[] = files.map((file, i) => ({
        id: newId(),
        order: base + i + 1,
        name: file.name || `image-${base + i + 1}.png`,
        source: file,
        status: 'queued',
        error: null,
        notes: [],
        done: 0,
        total: 0,
        downscaleTo: null,
        thumbnail: null,
        result: null,
        resultName: null,
        resultSize: null,
        modelName: null,
        settings: queuedSettings(),
        addedAt: Date.now(),
      }));
      set((state) => ({ items: [...state.items, ...added] }));
      await Promise.all(added.map(persist));
      batchHooks.kick();
      for (const item of added) {
        void fileThumbnail(item.source).then((thumbnail) => {
          const current = get().items.find((i) => i.id === item.id);
          if (thumbnail && current && !current.thumbnail) patchItem(item.id, { thumbnail });
        });
      }
    },

    update(id, patch) {
      // Progress updates are not worth a database write each.
      const save = !('done' in patch && Object.keys(patch).length <= 2);
      return patchItem(id, patch, save);
    },

    cancel(id) {
      const item = get().items.find((i) => i.id === id);
      if (!item) return;
      if (item.status === 'running') {
        patchItem(id, { status: 'cancelled' });
        if (get().currentId === id) batchHooks.cancelCurrent();
      } else if (item.status === 'queued' || item.status === 'too-large') {
        patchItem(id, { status: 'cancelled' });
      }
    },

    cancelAll() {
      for (const item of get().items) if (isUnfinished(item.status)) get().cancel(item.id);
    },

    retry(id) {
      const item = get().items.find((i) => i.id === id);
      if (!item || isUnfinished(item.status)) return;
      patchItem(id, { status: 'queued', error: null, notes: [], done: 0, total: 0 });
      batchHooks.kick();
    },

    resumeAll() {
      for (const item of get().items) {
        if (item.status === 'interrupted') {
          patchItem(item.id, { status: 'queued', error: null, done: 0, total: 0 });
        }
      }
      batchHooks.kick();
    },

    downscale(id, size) {
      patchItem(id, { status: 'queued', downscaleTo: size, error: null });
      batchHooks.kick();
    },

    remove(id) {
      const item = get().items.find((i) => i.id === id);
      if (!item) return;
      if (item.status === 'running') get().cancel(id);
      set((state) => ({ items: state.items.filter((i) => i.id !== id) }));
      void deleteItems([id]).catch(() => undefined);
    },

    clearFinished() {
      const gone = get().items.filter((i) => !isUnfinished(i.status));
      set((state) => ({ items: state.items.filter((i) => isUnfinished(i.status)) }));
      void deleteItems(gone.map((i) => i.id)).catch(() => undefined);
    },

    async downloadZip() {
      const done = get().items.filter((i) => i.status === 'done' && i.result && i.resultName);
      if (done.length === 0) return;
      set({ zipping: true });
      try {
        const zip = await zipResults(
          done.map((i) => ({ name: i.resultName!, blob: i.result!, modified: i.addedAt })),
        );
        saveBlob(zip, 'gendr-results.zip');
      } finally {
        set({ zipping: false });
      }
    },
  };
});

/** True while the queue has work: new files then join it instead of replacing the photo. */
export function batchBusy(): boolean {
  return useBatchStore.getState().items.some((i) => isUnfinished(i.status));
}
