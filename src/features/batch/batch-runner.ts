/**
 * Runs the batch queue, one item at a time, through the app's own restore flow (so the current
 * item streams into the viewer like a single photo): decode, restore on the worker with the
 * settings the item was queued with, await the outcome, encode the result with its metadata,
 * store it. A failed item (bad file, worker crash, …) is marked with the reason and the queue
 * goes on.
 */
import { errorText } from '../../../workers/contract/error-text.ts';
import { outputFileName } from '../../lib/encode-image.ts';
import type { AppModel } from '../../lib/model-index.ts';
import { useAppStore, type OpenOutcome } from '../../state/store.ts';
import { encodeResult } from '../inputs/encode-result.ts';
import { batchHooks, useBatchStore } from './batch-store.ts';
import type { BatchItem, BatchSettings } from './batch-types.ts';
import { canvasThumbnail } from './thumbnail.ts';

let running = false;

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

/** The item's own settings, or (for items stored without them) the app's current ones. */
function settingsFor(item: BatchItem): { settings: BatchSettings; model: AppModel } | string {
  const app = useAppStore.getState();
  const settings: BatchSettings | null =
    item.settings ??
    (() => {
      const model = app.models.find((m) => m.id === app.modelId);
      return model
        ? {
            modelId: model.id,
            modelName: model.name,
            scale: model.scale,
            format: app.format,
            quality: app.quality,
          }
        : null;
    })();
  if (!settings) return 'No model is selected.';
  const model = app.models.find((m) => m.id === settings.modelId);
  if (!model) {
    return `The model it was queued with (${settings.modelName}) is no longer available; remove it and add the file again.`;
  }
  return { settings, model };
}

async function processItem(item: BatchItem): Promise<void> {
  const batch = useBatchStore.getState();
  const chosen = settingsFor(item);
  if (typeof chosen === 'string') {
    await batch.update(item.id, { status: 'failed', error: chosen });
    return;
  }
  const { settings, model } = chosen;
  await batch.update(item.id, {
    status: 'running',
    error: null,
    notes: [],
    done: 0,
    total: 0,
    settings,
  });

  // Mirror the run's progress into the item while it runs (the run streams into the viewer).
  let runId: number | null = null;
  const stopWatching = useAppStore.subscribe((state) => {
    const run = state.run;
    if (!run || run.modelId !== model.id) return;
    runId ??= run.id;
    if (run.id !== runId) return;
    const it = current(item.id);
    if (it?.status === 'cancelled' && run.phase !== 'cancelled') useAppStore.getState().cancel();
    if (it && (it.done !== run.done || it.total !== run.total)) {
      void useBatchStore.getState().update(item.id, { done: run.done, total: run.total });
    }
  });
  let opened: OpenOutcome;
  try {
    opened = await useAppStore.getState().openFile(item.source, item.name, {
      downscaleTo: item.downscaleTo ?? undefined,
      model,
      outputScale: settings.scale !== model.scale ? settings.scale : null,
    });
  } finally {
    stopWatching();
  }

  if (current(item.id)?.status === 'cancelled') return;
  if (opened.kind === 'refused') {
    if (opened.sizeChoice) {
      await useBatchStore.getState().update(item.id, {
        status: 'too-large',
        error: opened.sizeChoice.message,
        downscaleTo: opened.sizeChoice.downscaleTo,
      });
      useAppStore.getState().dismissSizeChoice();
    } else {
      await useBatchStore.getState().update(item.id, { status: 'failed', error: opened.message });
    }
    return;
  }
  if (opened.kind === 'superseded' || !opened.outcome) {
    await useBatchStore.getState().update(item.id, {
      status: 'failed',
      error: `“${item.name}” could not be restored.`,
    });
    return;
  }
  const { phase, run } = opened.outcome;
  const notes = [...(opened.note ? [opened.note] : []), ...run.notices];
  if (phase === 'cancelled') {
    await useBatchStore.getState().update(item.id, { status: 'cancelled', notes });
    return;
  }
  if (phase !== 'done') {
    await useBatchStore.getState().update(item.id, {
      status: 'failed',
      error: run.error ?? 'The restore did not finish.',
      notes,
    });
    return;
  }
  try {
    const source = useAppStore.getState().source;
    const result = await encodeResult(
      run.canvas,
      settings.format,
      settings.quality,
      source?.metadata,
    );
    const thumbnail = await canvasThumbnail(run.canvas).catch(() => null);
    await useBatchStore.getState().update(item.id, {
      status: 'done',
      result,
      resultName: outputFileName(item.name, run.scale, settings.format),
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
