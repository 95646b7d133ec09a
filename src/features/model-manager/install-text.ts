/** Words for the install progress: "12.3 MB of 50 MB (24%) · 8.1 MB/s · about 5 s left". */
import { formatBytes, formatSeconds } from '../../lib/format.ts';
import type { InstallProgress } from './pack-store-client.ts';

export function installPercent(p: InstallProgress): number {
  return p.bytesTotal > 0 ? Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100)) : 0;
}

export function installProgressText(p: InstallProgress): string {
  if (p.phase === 'manifest') return 'Reading the manifest…';
  if (p.phase === 'checking') return 'Checking the graphs…';
  if (p.phase === 'finishing') return 'Finishing…';
  const parts = [
    `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} (${installPercent(p)}%)`,
  ];
  if (p.bytesPerSecond > 0) {
    parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
    const left = (p.bytesTotal - p.bytesDone) / p.bytesPerSecond;
    if (left >= 1) parts.push(`about ${formatSeconds(left * 1000)} left`);
  }
  return parts.join(' · ');
}

/** Sizes up to terabytes: "212 MB", "9.8 GB". */
export function formatSize(bytes: number): string {
  const GB = 1024 * 1024 * 1024;
  return bytes >= GB ? `${(bytes / GB).toFixed(bytes < 10 * GB ? 1 : 0)} GB` : formatBytes(bytes);
}
