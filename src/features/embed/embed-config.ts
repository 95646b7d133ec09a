/**
 * Which pages may drive the embedded app. The page's own origin always may; others only when
 * listed, at build time in VITE_GENDR_EMBED_ORIGINS (comma-separated origins) or at run time in
 * embed-config.json next to index.html (`{ "allowedOrigins": ["https://example.com"] }`), so a
 * deployment can change the list without a rebuild. `*` allows every origin (not recommended).
 *
 * Installed model packs are offered to embedding pages only where embed-config.json lists them
 * (`"packs": ["my-pack"]`, or `"packs": "*"` for every installed pack): by default an embedding
 * page sees the built-in models alone, and learns nothing of what the user installed.
 */

export interface EmbedConfig {
  /** Normalised origins ('https://example.com'), or '*'. */
  allowedOrigins: Set<string>;
  /** Pack ids offered to embedding pages, or '*' for all installed packs. */
  allowedPacks: Set<string>;
}

export function isAllowedPack(packId: string, config: EmbedConfig): boolean {
  return config.allowedPacks.has('*') || config.allowedPacks.has(packId);
}

export function normaliseOrigin(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  try {
    const origin = new URL(trimmed).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

export function parseOriginList(values: readonly unknown[]): string[] {
  const origins: string[] = [];
  for (const value of values) {
    const origin = typeof value === 'string' ? normaliseOrigin(value) : null;
    if (origin) origins.push(origin);
    else console.warn(`GenDR embed: ignoring ${JSON.stringify(value)}, which is not an origin`);
  }
  return origins;
}

export function isAllowedOrigin(origin: string, config: EmbedConfig, self: string): boolean {
  if (origin === 'null' || !origin) return false;
  return origin === self || config.allowedOrigins.has('*') || config.allowedOrigins.has(origin);
}

function buildTimeOrigins(): string[] {
  const raw = (import.meta.env.VITE_GENDR_EMBED_ORIGINS as string | undefined) ?? '';
  return parseOriginList(raw.split(/[\s,]+/).filter(Boolean));
}

interface RunTimeConfig {
  origins: string[];
  packs: string[];
}

export function parsePackList(value: unknown): string[] {
  if (value === '*') return ['*'];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

async function runTimeConfig(): Promise<RunTimeConfig> {
  try {
    const response = await fetch(`${import.meta.env.BASE_URL}embed-config.json`, {
      cache: 'no-cache',
    });
    if (!response.ok) return { origins: [], packs: [] };
    const json = (await response.json()) as { allowedOrigins?: unknown; packs?: unknown };
    return {
      origins: Array.isArray(json.allowedOrigins) ? parseOriginList(json.allowedOrigins) : [],
      packs: parsePackList(json.packs),
    };
  } catch {
    return { origins: [], packs: [] };
  }
}

export async function loadEmbedConfig(): Promise<EmbedConfig> {
  const runTime = await runTimeConfig();
  return {
    allowedOrigins: new Set([...buildTimeOrigins(), ...runTime.origins]),
    allowedPacks: new Set(runTime.packs),
  };
}
