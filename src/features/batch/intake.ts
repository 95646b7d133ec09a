/**
 * Where picked and dropped files go: one file, with no batch running, opens as the photo (the
 * single-image flow); several files, or any file while a batch runs, join the queue.
 */
import { useAppStore } from '../../state/store.ts';
import { batchBusy, useBatchStore } from './batch-store.ts';

export function openFiles(files: readonly File[]): void {
  if (files.length === 0) return;
  if (files.length === 1 && !batchBusy()) {
    const [file] = files;
    void useAppStore.getState().openFile(file, file.name || 'dropped.png');
    return;
  }
  void useBatchStore.getState().add(files);
}
