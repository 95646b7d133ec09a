/**
 * The ONNX reader (engine/onnx/onnx-reader.ts) over a Node file handle: what a pack builder needs
 * to know about a model's weights (their element types and the external-data files they name),
 * read without loading them.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { readOnnxHeader, type OnnxHeader } from '../../engine/onnx/onnx-reader.ts';
import type { RandomAccessSource } from '../../engine/onnx/random-access.ts';

export { ONNX_BFLOAT16, ONNX_FLOAT, ONNX_FLOAT16 } from '../../engine/onnx/onnx-reader.ts';

/** Random access to an open file. */
export function fileHandleSource(handle: FileHandle, size: number): RandomAccessSource {
  return {
    size,
    async read(offset, length) {
      const buffer = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let done = 0;
      while (done < buffer.byteLength) {
        const { bytesRead } = await handle.read(
          buffer,
          done,
          buffer.byteLength - done,
          offset + done,
        );
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    },
  };
}

/** Reads the header of the .onnx model in `file` (weights skipped). */
export async function readOnnxFileHeader(file: string): Promise<OnnxHeader> {
  const handle = await open(file, 'r');
  try {
    return await readOnnxHeader(fileHandleSource(handle, (await handle.stat()).size), file);
  } finally {
    await handle.close();
  }
}
