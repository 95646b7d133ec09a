/**
 * Which pages may drive the embedded app. The page's own origin always may; others only when
 * listed, at build time in VITE_GENDR_EMBED_ORIGINS (comma-separated origins) or at run time in
 * embed-config.json next to index.html (`{ "allowedOrigins": ["https://example.com"] }`), so a
 * deployment can change the list without a rebuild. `*` allows every origin (not recommended).
 */

export interface EmbedConfig {
  /** Normalised origins ('https://example.com'), or '*'. */
  allowedOrigins: Set<string>;
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

async function runTimeOrigins(): Promise<string[]> {
  try {
    const response = await fetch(`${import.meta.env.BASE_URL}embed-config.json`, {
      cache: 'no-cache',
    });
    if (!response.ok) return [];
    const json = (await response.json()) as { allowedOrigins?: unknown };
    return Array.isArray(json.allowedOrigins) ? parseOriginList(json.allowedOrigins) : [];
  } catch {
    return [];
  }
}

export async function loadEmbedConfig(): Promise<EmbedConfig> {
  return { allowedOrigins: new Set([...buildTimeOrigins(), ...(await runTimeOrigins())]) };
}
