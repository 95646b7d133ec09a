/**
 * Reads a byte stream in chunks through one reused buffer where the stream allows it (a "bring
 * your own buffer" reader: fetch bodies and Blob streams in Chromium), so a multi-gigabyte
 * download allocates one buffer instead of one per network chunk; other streams are read as
 * they come. Each chunk is only valid until the next read.
 */

export const CHUNK_BYTES = 1024 * 1024;

export interface ChunkReader {
  /** The next chunk, or null at the end. */
  read(): Promise<Uint8Array | null>;
  release(): void;
}

export function chunkReader(stream: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream.
  }
  if (byob) {
    const reader = byob;
    let buffer: ArrayBuffer = new ArrayBuffer(CHUNK_BYTES);
    return {
      async read() {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done || !value) return null;
        // The buffer came back (transferred) inside `value`: reuse it for the next read.
        buffer = value.buffer as ArrayBuffer;
        return value;
      },
      release: () => reader.releaseLock(),
    };
  }
  const reader = stream.getReader();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    release: () => reader.releaseLock(),
  };
}
