/**
 * Installed packs in the app's model picker: each becomes an entry of the app store's model list
 * (a family of its own, after the built-in models), kept in step with the model manager's list.
 */
import { packModelEntry, type AppModel } from '../../lib/model-index.ts';
import { useAppStore } from '../../state/store.ts';
import { useModelManager } from './model-manager-store.ts';

function sameList(a: readonly AppModel[], b: readonly AppModel[]) {
  return a.length === b.length && a.every((m, i) => m.id === b[i].id && m.bytes === b[i].bytes);
}

/** Puts the installed packs after the built-in models (once those have loaded). */
function apply(): void {
  const { models, modelId } = useAppStore.getState();
  const builtins = models.filter((m) => m.descriptor.kind === 'builtin');
  if (builtins.length === 0) return;
  const packs = useModelManager.getState().packs.map(packModelEntry);
  const next = [...builtins, ...packs];
  if (sameList(next, models)) return;
  const selected = models.find((m) => m.id === modelId);
  const selectedGone =
    selected?.descriptor.kind === 'pack' && !packs.some((p) => p.id === selected.id);
  useAppStore.setState({ models: next, ...(selectedGone ? { modelId: builtins[0].id } : {}) });
}

let started = false;

export function startPackModelSync(): void {
  if (started) return;
  started = true;
  useModelManager.subscribe((s, prev) => {
    if (s.packs !== prev.packs) apply();
  });
  useAppStore.subscribe((s, prev) => {
    if (s.models !== prev.models) apply();
  });
  apply();
}
