/** Node-side `.safetensors` file access for the builder (the parser itself is runtime-free). */
import { readFile, writeFile } from 'node:fs/promises';
import {
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsDType,
  type SafetensorsFile,
} from '../../engine/latent/safetensors.ts';

export async function readSafetensorsFile(file: string): Promise<SafetensorsFile> {
  const bytes = await readFile(file);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

export async function writeSafetensorsFile(
  file: string,
  tensors: readonly {
    name: string;
    dtype: SafetensorsDType;
    shape: readonly number[];
    data: ArrayBufferView;
  }[],
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(file, encodeSafetensors(tensors, metadata));
}
