/**
 * Random access to the bytes of a file without reading all of it. The ONNX reader walks a model
 * through one, skipping the weights; workers/opfs/random-access.ts adapts a Blob (an OPFS or
 * picked File) and tools/onnx/model-scan.ts a Node file handle.
 */

export interface RandomAccessSource {
  readonly size: number;
  /** Bytes [offset, offset + length), clipped to the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): RandomAccessSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) =>
      bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
  };
}
