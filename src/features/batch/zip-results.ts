/** The finished results as one ZIP (fflate, stored: PNG/JPEG/WebP are compressed already). */
import { zip, type AsyncZippable } from 'fflate';

export interface ZipEntry {
  name: string;
  blob: Blob;
  modified: number;
}

/** `a.png`, `a.png` → `a.png`, `a (2).png`. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    if (count === 1) return name;
    const dot = name.lastIndexOf('.');
    const candidate =
      dot > 0 ? `${name.slice(0, dot)} (${count})${name.slice(dot)}` : `${name} (${count})`;
    seen.set(candidate, 1);
    return candidate;
  });
}

export async function zipResults(entries: readonly ZipEntry[]): Promise<Blob> {
  const names = uniqueNames(entries.map((e) => e.name));
  const files: AsyncZippable = {};
  for (const [i, entry] of entries.entries()) {
    files[names[i]] = [
      new Uint8Array(await entry.blob.arrayBuffer()),
      { level: 0, mtime: new Date(entry.modified) },
    ];
  }
  const bytes = await new Promise<Uint8Array>((resolve, reject) =>
    zip(files, { consume: true }, (error, data) => (error ? reject(error) : resolve(data))),
  );
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}
