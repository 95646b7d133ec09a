/**
 * A small streaming reader of (gunzipped) tar archives that keeps only the entries asked for:
 * feed it chunks in order, then call end(). It reads ustar headers (name + prefix), GNU long
 * names ('L') and pax extended headers ('x', path=), checks each header's checksum, and skips
 * every other entry's data without keeping it. Enough for npm package tarballs.
 */
const BLOCK = 512;

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

export class TarReader {
  private readonly wanted: Set<string>;
  private readonly found = new Map<string, Uint8Array>();
  /** Bytes of the current header block gathered so far. */
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** The entry being read: its data (when kept), bytes still to read, padding after it. */
  private entry: { path: string; kind: string; data: Uint8Array | null; at: number } | null = null;
  private remaining = 0;
  private padding = 0;
  private longName: string | null = null;
  private paxPath: string | null = null;
  private zeroBlocks = 0;
  private done = false;

  /** `wanted`: entry paths to keep, exactly as stored ('package/…' for npm tarballs). */
  constructor(
    wanted: Iterable<string>,
    private readonly source = 'tar',
  ) {
    this.wanted = new Set(wanted);
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const e = this.entry!;
        if (e.data) e.data.set(chunk.subarray(at, at + n), e.at);
        e.at += n;
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.finishEntry();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + n), this.headerFill);
        this.headerFill += n;
        at += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader();
        }
      }
    }
  }

  /** The kept entries; throws if the archive ended inside an entry or one was not found. */
  end(): Map<string, Uint8Array> {
    if (this.remaining > 0 || this.headerFill > 0) {
      throw new Error(`${this.source}: the archive is truncated`);
    }
    const missing = [...this.wanted].filter((p) => !this.found.has(p));
    if (missing.length)
      throw new Error(`${this.source}: not in the archive: ${missing.join(', ')}`);
    return this.found;
  }

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      // Two zero blocks end the archive.
      if (++this.zeroBlocks === 2) this.done = true;
      return;
    }
    this.zeroBlocks = 0;
    const stored = octal(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (stored !== sum)
      throw new Error(`${this.source}: bad tar header checksum (not a tar file?)`);
    const kind = String.fromCharCode(h[156] || 48);
    const size = tarSize(h, this.source);
    let name = text(h, 0, 100);
    if (text(h, 257, 6) === 'ustar') {
      const prefix = text(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (kind === 'L' || kind === 'x') {
      // Metadata for the next entry: always read.
      this.entry = { path: name, kind, data: new Uint8Array(size), at: 0 };
    } else {
      const path = this.paxPath ?? this.longName ?? name;
      this.paxPath = null;
      this.longName = null;
      const keep = (kind === '0' || kind === '7') && this.wanted.has(path);
      this.entry = { path, kind, data: keep ? new Uint8Array(size) : null, at: 0 };
    }
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.finishEntry();
  }

  private finishEntry(): void {
    const e = this.entry!;
    this.entry = null;
    if (!e.data) return;
    if (e.kind === 'L') {
      this.longName = new TextDecoder().decode(e.data).replace(/\0.*$/s, '');
    } else if (e.kind === 'x') {
      this.paxPath = paxRecords(e.data).get('path') ?? null;
    } else {
      this.found.set(e.path, e.data);
    }
  }
}

function text(h: Uint8Array, at: number, length: number): string {
  const bytes = h.subarray(at, at + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(h: Uint8Array, at: number, length: number): number {
  const s = text(h, at, length).trim();
  return s ? parseInt(s, 8) : 0;
}

/** The size field: octal, or GNU base-256 (top bit set) for sizes over 8 GiB. */
function tarSize(h: Uint8Array, source: string): number {
  if (h[124] & 0x80) {
    let v = h[124] & 0x7f;
    for (let i = 125; i < 136; i++) v = v * 256 + h[i];
    return v;
  }
  const v = octal(h, 124, 12);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${source}: bad tar entry size`);
  return v;
}

/** pax records: "<length> <key>=<value>\n" each. */
function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(32, at);
    if (space < 0) break;
    const length = Number(new TextDecoder().decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = new TextDecoder().decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}
