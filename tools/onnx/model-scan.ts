/**
 * Scans an ONNX model file for what a pack needs to know about its weights, without loading them:
 * the element types of its initializers and the external-data files they name. The protobuf is
 * walked field by field (ModelProto.graph → GraphProto.initializer → TensorProto) and tensor data
 * is skipped by seeking, so a 2 GB model costs a few kilobytes of reads.
 */
import fs from 'node:fs';

/** ONNX TensorProto.DataType codes of the float types. */
export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;
export const ONNX_BFLOAT16 = 16;

export interface OnnxWeightScan {
  /** TensorProto.DataType codes of the graph's initializers (e.g. 1 float32, 10 float16). */
  initializerTypes: Set<number>;
  /** External-data locations named by initializers (relative to the model file), in order. */
  externalData: string[];
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_DATA_TYPE = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

const WINDOW = 64 * 1024;

/** Random-access reads of a file through a 64 KB window. */
class FileCursor {
  private window = new Uint8Array(0);
  private windowStart = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly file: string,
  ) {}

  private byteAt(pos: number): number {
    if (pos >= this.size) throw new Error(`${this.file}: truncated protobuf at byte ${pos}`);
    if (pos < this.windowStart || pos >= this.windowStart + this.window.byteLength) {
      const buf = new Uint8Array(Math.min(WINDOW, this.size - pos));
      fs.readSync(this.fd, buf, 0, buf.byteLength, pos);
      this.window = buf;
      this.windowStart = pos;
    }
    return this.window[pos - this.windowStart];
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byteAt(this.pos++);
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Error(`${this.file}: bad varint at byte ${this.pos}`);
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.byteAt(this.pos + i);
    this.pos += length;
    return out;
  }

  /** Skips a field's value of this wire type. */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_I32) this.pos += 4;
    else if (wire === WIRE_LEN) {
      const length = this.varint();
      this.pos += length;
    } else throw new Error(`${this.file}: unsupported protobuf wire type ${wire}`);
  }

  /** Calls `field` for each field up to `end`; `field` must consume the value or return false. */
  fields(end: number, field: (num: number, wire: number) => boolean): void {
    while (this.pos < end) {
      const key = this.varint();
      const num = Math.floor(key / 8);
      const wire = key % 8;
      if (!field(num, wire)) this.skip(wire);
    }
    if (this.pos !== end) throw new Error(`${this.file}: a protobuf field overruns its message`);
  }
}

const text = new TextDecoder();

/** Scans `file` (an .onnx model) for its initializers' types and external-data files. */
export function scanOnnxWeights(file: string): OnnxWeightScan {
  const fd = fs.openSync(file, 'r');
  try {
    const c = new FileCursor(fd, fs.fstatSync(fd).size, file);
    const initializerTypes = new Set<number>();
    const externalData: string[] = [];
    const tensor = (end: number) =>
      c.fields(end, (num, wire) => {
        if (num === TENSOR_DATA_TYPE && wire === WIRE_VARINT) {
          initializerTypes.add(c.varint());
          return true;
        }
        if (num === TENSOR_EXTERNAL_DATA && wire === WIRE_LEN) {
          const entryEnd = c.varint() + c.pos;
          let key = '';
          let value = '';
          c.fields(entryEnd, (n, w) => {
            if (w !== WIRE_LEN || (n !== ENTRY_KEY && n !== ENTRY_VALUE)) return false;
            const s = text.decode(c.bytes(c.varint()));
            if (n === ENTRY_KEY) key = s;
            else value = s;
            return true;
          });
          if (key === 'location' && !externalData.includes(value)) externalData.push(value);
          return true;
        }
        return false;
      });
    c.fields(c.size, (num, wire) => {
      if (num !== MODEL_GRAPH || wire !== WIRE_LEN) return false;
      const graphEnd = c.varint() + c.pos;
      c.fields(graphEnd, (n, w) => {
        if (n !== GRAPH_INITIALIZER || w !== WIRE_LEN) return false;
        tensor(c.varint() + c.pos);
        return true;
      });
      return true;
    });
    return { initializerTypes, externalData };
  } finally {
    fs.closeSync(fd);
  }
}
