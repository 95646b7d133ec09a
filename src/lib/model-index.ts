/** The built-in models, as listed by the build step in public/models/index.json. */
import {
  modelKey,
  modelName,
  type BuiltinModelIndex,
  type BuiltinModelManifest,
  type InstalledPack,
  type ModelDescriptor,
} from '../../workers/contract/model.ts';

export type { BuiltinModelManifest };

/** A model as the page lists it: what the picker shows, and the descriptor the worker runs. */
export interface AppModel {
  /** modelKey(descriptor): tells entries apart in lists and settings. */
  id: string;
  name: string;
  description: string;
  /** Models of one family differ only in scale (the picker's cards). */
  family: string;
  scale: number;
  bytes: number;
  licence: string;
  /** Picker group. */
  group: 'photo' | 'anime' | 'classic' | 'pack';
  /** Within a group: best quality or fast. */
  tier?: 'best' | 'fast';
  descriptor: ModelDescriptor;
}

export function builtinModelEntry(manifest: BuiltinModelManifest): AppModel {
  const descriptor: ModelDescriptor = { kind: 'builtin', manifest };
  const group = manifest.group ?? 'classic';
  return {
    id: modelKey(descriptor),
    name: manifest.name,
    description: manifest.description,
    // Photo models are one card each; classic and anime models group their scales in a family.
    family: group === 'photo' ? manifest.id : manifest.family,
    group,
    tier: manifest.tier,
    scale: manifest.scale,
    bytes: manifest.bytes,
    licence: manifest.licence,
    descriptor,
  };
}

export function packModelEntry(pack: InstalledPack): AppModel {
  const descriptor: ModelDescriptor = { kind: 'pack', pack };
  const id = modelKey(descriptor);
  return {
    id,
    name: modelName(descriptor),
    description:
      pack.description ||
      `Installed model pack (${pack.hasUnet ? 'one-step latent diffusion' : 'VAE only'}, ${pack.precision}).`,
    family: id,
    group: 'pack',
    scale: pack.scale,
    bytes: pack.bytes,
    licence: pack.licence,
    descriptor,
  };
}

export function modelsBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, window.location.href).href;
}

export async function fetchModelIndex(): Promise<BuiltinModelIndex> {
  const response = await fetch(new URL('index.json', modelsBaseUrl()));
  if (!response.ok) {
    throw new Error(
      `The list of models could not be loaded (HTTP ${response.status}). Was \`npm run models\` run?`,
    );
  }
  const index = (await response.json()) as BuiltinModelIndex;
  if (index.version !== 1 || !Array.isArray(index.models) || index.models.length === 0) {
    throw new Error('The list of models is empty or in an unknown format.');
  }
  return index;
}

export interface ModelFamily {
  family: string;
  /** e.g. 'ESRGAN medium'. */
  label: string;
  description: string;
  /** Models of this family by scale. */
  byScale: Map<number, AppModel>;
}

/** Groups the index by family (slim / medium / thick), keeping the index's order. */
export function modelFamilies(models: readonly AppModel[]): ModelFamily[] {
  const families = new Map<string, ModelFamily>();
  for (const model of models) {
    let entry = families.get(model.family);
    if (!entry) {
      entry = {
        family: model.family,
        label: model.name.replace(/\s*[×x]\s*\d+(?=$|\s*\()/, ''),
        description: model.description,
        byScale: new Map(),
      };
      families.set(model.family, entry);
    }
    entry.byScale.set(model.scale, model);
  }
  for (const entry of families.values()) {
    entry.byScale = new Map([...entry.byScale].sort(([a], [b]) => a - b));
  }
  return [...families.values()];
}
