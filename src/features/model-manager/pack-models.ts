/**
 * Installed packs in the app's model picker: each becomes an entry of the app store's model list
 * (id `pack:<pack id>`, a family of its own), kept in step with the model manager's list. The
 * restore worker sees the `pack:` id and runs the pack's latent pipeline instead of a built-in.
 */
import { packIdOf, packModelId } from '../../../workers/contract/pack-model-id.ts';
import type { BuiltinModelManifest } from '../../lib/model-index.ts';
import { useAppStore } from '../../state/store.ts';
import { useModelManager } from './model-manager-store.ts';
import type { InstalledPack } from './pack-store-client.ts';

export function packModelEntry(pack: InstalledPack): BuiltinModelManifest {
  return {
    id: packModelId(pack.id),
    // The picker shows the name without its "×N".
    name: `${pack.name} ×${pack.scale}`,
    description:
      pack.description ||
      `Installed model pack (${pack.hasUnet ? 'one-step latent diffusion' : 'VAE only'}, ${pack.precision}).`,
    architecture: pack.hasUnet ? 'latent-diffusion' : 'vae',
    family: packModelId(pack.id),
    scale: pack.scale,
    inputRange: [0, 255],
    licence: pack.licence,
    source: { package: 'installed model pack', version: pack.installedAt, path: pack.source },
    file: 'manifest.json',
    bytes: pack.bytes,
    sha256: '',
    tileMargin: 0,
    opset: 0,
  };
}

function sameList(a: readonly BuiltinModelManifest[], b: readonly BuiltinModelManifest[]) {
  return a.length === b.length && a.every((m, i) => m.id === b[i].id && m.bytes === b[i].bytes);
}

/** Puts the installed packs after the built-in models (once those have loaded). */
function apply(): void {
  const { models, modelId } = useAppStore.getState();
  const builtins = models.filter((m) => packIdOf(m.id) === null);
  if (builtins.length === 0) return;
  const packs = useModelManager.getState().packs.map(packModelEntry);
  const next = [...builtins, ...packs];
  if (sameList(next, models)) return;
  const selectedGone =
    modelId !== null && packIdOf(modelId) !== null && !packs.some((p) => p.id === modelId);
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
