/**
 * Streams a GraphBuilder model to disk one initializer at a time, so a multi-gigabyte model is
 * never held in memory (only the tensor being written is). Weights go inline in the protobuf, or
 * into an ONNX external-data file next to it (`model.onnx_data`) when the model would pass
 * protobuf's 2 GB limit. onnxruntime-node finds the data file next to a model loaded from a path;
 * onnxruntime-web needs it passed as `externalData: [{ path: 'model.onnx_data', data }]`.
 *
 * The protobuf is written by hand around protobufjs-encoded pieces: ModelProto without its graph,
 * then field 7 (graph) whose body is the GraphProto without initializers followed by one field-5
 * (initializer) entry per tensor; each TensorProto carries its bytes as field 9 (raw_data) or
 * field 13 / 14 (external_data, data_location = EXTERNAL). Field order is free in protobuf.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { GraphBuilder } from './graph-builder.ts';

const { onnx } = onnxProto;

/** Largest model protobuf onnxruntime parses (2 GiB), less a margin. */
export const PROTOBUF_LIMIT = 2 ** 31 - 2 ** 24;

export interface WriteModelOptions {
  /** 'auto' (default): external data only when the model would pass PROTOBUF_LIMIT. */
  externalData?: 'auto' | 'always' | 'never';
  /** Tensors smaller than this stay inline even with external data (default 1024 bytes). */
  externalThreshold?: number;
  /** Offset alignment of tensors in the external-data file (default 4096). */
  alignment?: number;
  producer?: string;
}

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface WrittenModel {
  /** The .onnx file first, then the external-data file if any. */
  files: WrittenFile[];
  externalData: boolean;
}

const WIRE_LEN = 2;

function varint(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint ${n}`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** Tag and length prefix of a length-delimited field. */
function lenPrefix(field: number, length: number): Uint8Array {
  return Uint8Array.from([...varint((field << 3) | WIRE_LEN), ...varint(length)]);
}

class HashingWriter {
  readonly hash: Hash = createHash('sha256');
  private readonly fd: number;
  bytes = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(chunk: Uint8Array): void {
    let done = 0;
    while (done < chunk.byteLength) {
      done += fs.writeSync(this.fd, chunk, done, chunk.byteLength - done);
    }
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  pad(to: number): void {
    const extra = (to - (this.bytes % to)) % to;
    if (extra) this.write(new Uint8Array(extra));
  }

  close(): WrittenFile {
    fs.closeSync(this.fd);
    return { path: this.file, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** Writes `g` to `file` (creating its folder), streaming initializer data. */
export function writeModelFile(
  g: GraphBuilder,
  file: string,
  opts: WriteModelOptions = {},
): WrittenModel {
  const threshold = opts.externalThreshold ?? 1024;
  const alignment = opts.alignment ?? 4096;
  const { model, initializers } = g.streamParts(opts.producer);
  const graphBytes = onnx.GraphProto.encode(model.graph!).finish();
  model.graph = null;
  const headBytes = onnx.ModelProto.encode(model).finish();

  const inlineSize = (meta: number, n: number) =>
    meta + lenPrefix(9, n).byteLength + n + lenPrefix(5, 0).byteLength + 8;
  const inlineTotal = initializers.reduce(
    (sum, t) => sum + inlineSize(256 + (t.tensor.name?.length ?? 0), t.byteLength),
    headBytes.byteLength + graphBytes.byteLength + 16,
  );
  const mode = opts.externalData ?? 'auto';
  const external = mode === 'always' || (mode === 'auto' && inlineTotal > PROTOBUF_LIMIT);

  const dataName = `${path.basename(file)}_data`;
  fs.mkdirSync(path.dirname(file), { recursive: true });

  // Lay out the external-data file and encode every initializer's metadata up front: the graph's
  // length prefix must be known before its first byte is written.
  let dataOffset = 0;
  const entries = initializers.map((t) => {
    const goesOut = external && t.byteLength >= threshold;
    let offset = 0;
    if (goesOut) {
      dataOffset = Math.ceil(dataOffset / alignment) * alignment;
      offset = dataOffset;
      dataOffset += t.byteLength;
    }
    const tensor = goesOut
      ? {
          ...t.tensor,
          externalData: [
            { key: 'location', value: dataName },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(t.byteLength) },
          ],
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        }
      : t.tensor;
    const meta = onnx.TensorProto.encode(onnx.TensorProto.create(tensor)).finish();
    const rawPrefix = goesOut ? new Uint8Array(0) : lenPrefix(9, t.byteLength);
    const body = meta.byteLength + rawPrefix.byteLength + (goesOut ? 0 : t.byteLength);
    return { t, goesOut, offset, meta, rawPrefix, prefix: lenPrefix(5, body), body };
  });
  const graphLength = entries.reduce(
    (sum, e) => sum + e.prefix.byteLength + e.body,
    graphBytes.byteLength,
  );
  const total = headBytes.byteLength + lenPrefix(7, graphLength).byteLength + graphLength;
  if (total > PROTOBUF_LIMIT) {
    throw new Error(
      `${file}: the model is ${total} bytes, over protobuf's 2 GB limit; write it with external data`,
    );
  }

  const out = new HashingWriter(file);
  const data = external ? new HashingWriter(path.join(path.dirname(file), dataName)) : undefined;
  try {
    out.write(headBytes);
    out.write(lenPrefix(7, graphLength));
    out.write(graphBytes);
    for (const e of entries) {
      out.write(e.prefix);
      out.write(e.meta);
      const bytes = e.t.data();
      if (bytes.byteLength !== e.t.byteLength) {
        throw new Error(
          `initializer ${e.t.tensor.name}: ${bytes.byteLength} bytes, expected ${e.t.byteLength}`,
        );
      }
      if (e.goesOut) {
        data!.pad(alignment);
        if (data!.bytes !== e.offset) throw new Error('external data layout mismatch');
        data!.write(bytes);
      } else {
        out.write(e.rawPrefix);
        out.write(bytes);
      }
    }
  } catch (err) {
    out.close();
    data?.close();
    throw err;
  }
  const files = [out.close()];
  if (data) files.push(data.close());
  return { files, externalData: external };
}
