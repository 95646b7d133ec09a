/**
 * The browser's random-access source for the ONNX reader (engine/onnx/onnx-reader.ts): a Blob,
 * i.e. an OPFS or picked File, read a slice at a time.
 */
import type { RandomAccessSource } from '../../engine/onnx/random-access.ts';

export { bytesSource, type RandomAccessSource } from '../../engine/onnx/random-access.ts';

export function blobSource(blob: Blob): RandomAccessSource {
  return {
    size: blob.size,
    async read(offset, length) {
      const end = Math.min(blob.size, offset + length);
      return new Uint8Array(await blob.slice(offset, end).arrayBuffer());
    },
  };
}
