/**
 * Runs the batch queue, one item at a time, through the app's own restore flow (so the current
 * item streams into the viewer like a single photo): decode, restore on the worker, encode the
 * result with its metadata, store it. A failed item (bad file, worker crash, …) is marked with the
 * reason and the queue goes on.
 */
import { outputFileName } from '../../lib/encode-image.ts';
import { useAppStore } from '../../state/store.ts';
import { encodeResult } from '../inputs/encode-result.ts';
import { batchHooks, useBatchStore } from './batch-store.ts';
import type { BatchItem } from './batch-types.ts';
import { canvasThumbnail } from './thumbnail.ts';

let running = false;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves once the model list is in (the queue cannot pick a model before). */
function modelsReady(): Promise<void> {
  return new Promise((resolve) => {
    const ready = () => useAppStore.getState().models.length > 0;
    if (ready()) return resolve();
    const stop = useAppStore.subscribe(() => {
      if (ready()) {
        stop();
        resolve();
      }
    });
  });
}

function current(id: string): BatchItem | undefined {
  return useBatchStore.getState().items.find((i) => i.id === id);
}

async function processItem(item: BatchItem): Promise<void> {
  const batch = useBatchStore.getState();
  const app = useAppStore.getState();
  await batch.update(item.id, { status: 'running', error: null, notes: [], done: 0, total: 0 });

  // Mirror the run's progress into the item while it runs.
  let runId: number | null = null;
  const stopWatching = useAppStore.subscribe((state) => {
    const run = state.run;
    if (!run || state.source?.name !== item.name) return;
    runId ??= run.id;
    if (run.id !== runId) return;
    const it = current(item.id);
    if (it?.status === 'cancelled' && run.phase !== 'cancelled') useAppStore.getState().cancel();
    if (it && (it.done !== run.done || it.total !== run.total)) {
      void useBatchStore.getState().update(item.id, { done: run.done, total: run.total });
    }
  });
  try {
    await app.openFile(item.source, item.name, { downscaleTo: item.downscaleTo ?? undefined });
  } finally {
    stopWatching();
  }

  const state = useAppStore.getState();
  if (current(item.id)?.status === 'cancelled') return;
  if (state.sizeChoice?.file === item.source) {
    await useBatchStore.getState().update(item.id, {
      status: 'too-large',
      error: state.sizeChoice.message,
      downscaleTo: state.sizeChoice.downscaleTo,
    });
    useAppStore.getState().dismissSizeChoice();
    return;
  }
  const run = state.run;
  if (!run || runId === null || run.id !== runId) {
    await useBatchStore.getState().update(item.id, {
      status: 'failed',
      error: state.sourceError ?? `“${item.name}” could not be restored.`,
    });
    return;
  }
  const notes = [...(state.sourceNote ? [state.sourceNote] : []), ...run.notices];
  if (run.phase === 'cancelled') {
    await useBatchStore.getState().update(item.id, { status: 'cancelled', notes });
    return;
  }
  if (run.phase !== 'done') {
    await useBatchStore.getState().update(item.id, {
      status: 'failed',
      error: run.error ?? 'The restore did not finish.',
      notes,
    });
    return;
  }
  try {
    const result = await encodeResult(
      run.canvas,
      state.format,
      state.quality,
      state.source?.metadata,
    );
    const thumbnail = await canvasThumbnail(run.canvas).catch(() => null);
    await useBatchStore.getState().update(item.id, {
      status: 'done',
      result,
      resultName: outputFileName(item.name, run.scale, state.format),
      resultSize: { width: run.width, height: run.height },
      modelName: run.modelName,
      thumbnail: thumbnail ?? current(item.id)?.thumbnail ?? null,
      done: run.total,
      total: run.total,
      notes,
    });
  } catch (error) {
    await useBatchStore.getState().update(item.id, {
      status: 'failed',
      error: `The result could not be saved: ${errorText(error)}`,
      notes,
    });
  }
}

/** Works through the queue until nothing is queued. Safe to call any time. */
export async function runQueue(): Promise<void> {
  if (running) return;
  running = true;
  try {
    await modelsReady();
    for (;;) {
      const next = useBatchStore.getState().items.find((i) => i.status === 'queued');
      if (!next) break;
      useBatchStore.setState({ currentId: next.id });
      try {
        await processItem(next);
      } catch (error) {
        await useBatchStore
          .getState()
          .update(next.id, { status: 'failed', error: errorText(error) });
      }
    }
  } finally {
    useBatchStore.setState({ currentId: null });
    running = false;
  }
}

/** Wires the queue to the runner and loads the saved items. Call once at start-up. */
export function startBatch(): void {
  batchHooks.kick = () => void runQueue();
  batchHooks.cancelCurrent = () => useAppStore.getState().cancel();
  void useBatchStore.getState().load();
}
