/**
 * Installed packs take part in the app's model list with ids of their own kind, `pack:<pack id>`,
 * so the page and the restore worker tell them from built-in models.
 */
export const PACK_MODEL_PREFIX = 'pack:';

export function packModelId(packId: string): string {
  return `${PACK_MODEL_PREFIX}${packId}`;
}

/** The pack id of a `pack:` model id, or null for a built-in model. */
export function packIdOf(modelId: string): string | null {
  return modelId.startsWith(PACK_MODEL_PREFIX) ? modelId.slice(PACK_MODEL_PREFIX.length) : null;
}
