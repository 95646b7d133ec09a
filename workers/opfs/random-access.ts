/**
 * Random access to the bytes of a file without reading all of it: a Blob (an OPFS or picked
 * File) in the browser, a file handle in Node. The ONNX header reader walks a model through it,
 * skipping the weights.
 */

export interface RandomAccessSource {
  readonly size: number;
  /** Bytes [offset, offset + length), clipped to the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function blobSource(blob: Blob): RandomAccessSource {
  return {
    size: blob.size,
    async read(offset, length) {
      const end = Math.min(blob.size, offset + length);
      return new Uint8Array(await blob.slice(offset, end).arrayBuffer());
    },
  };
}

export function bytesSource(bytes: Uint8Array): RandomAccessSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) =>
      bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
  };
}
