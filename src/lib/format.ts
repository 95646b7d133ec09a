/** Small formatting helpers for the UI. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Time left from tiles done so far, or null before the first tile. */
export function estimateRemainingMs(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || total <= 0 || done > total) return null;
  return (elapsedMs / done) * (total - done);
}

export function formatEta(ms: number | null): string {
  if (ms === null) return 'estimating time left…';
  if (ms < 1000) return 'almost done';
  return `about ${formatSeconds(ms)} left`;
}
