/** The built-in models, as listed by the build step in public/models/index.json. */
import type { BuiltinModelIndex, BuiltinModelManifest } from '../../workers/contract/model.ts';

export type { BuiltinModelManifest };

export function modelsBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, window.location.href).href;
}

export function modelUrl(model: BuiltinModelManifest): string {
  return new URL(`${model.id}/${model.file}`, modelsBaseUrl()).href;
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
  byScale: Map<number, BuiltinModelManifest>;
}

/** Groups the index by family (slim / medium / thick), keeping the index's order. */
export function modelFamilies(models: readonly BuiltinModelManifest[]): ModelFamily[] {
  const families = new Map<string, ModelFamily>();
  for (const model of models) {
    let entry = families.get(model.family);
    if (!entry) {
      entry = {
        family: model.family,
        label: model.name.replace(/\s*[×x]\s*\d+$/, ''),
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
