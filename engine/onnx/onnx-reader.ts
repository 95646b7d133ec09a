/**
 * Reads an ONNX model's interface (graph inputs and outputs: names, element types, shapes) and
 * what its initializers are (element types, external-data files) by walking its protobuf
 * structure, without loading the weights: initializers' raw data is skipped
 * with a seek, so a 2 GB model costs a few kilobytes of reads. Every length-delimited field is
 * checked against the bounds of the message that holds it, and the model must end exactly where
 * its last field ends, so a file that is not a ModelProto (or is cut short) is rejected with an
 * OnnxParseError saying where and why.
 *
 * The pack store runs it as the install-time check (onnxruntime's own, complete one runs when the
 * pack is loaded); the pack builders read initializer types and external data with it.
 */
import type { TensorMetadata } from '../session.ts';
import type { RandomAccessSource } from './random-access.ts';

export class OnnxParseError extends Error {
  override name = 'OnnxParseError';
}

export interface OnnxHeader {
  irVersion: number;
  /** Opset per domain ('' is the default ONNX domain). */
  opsets: Record<string, number>;
  /** Inputs a caller must feed (graph inputs that are not initializers), like ORT's inputNames. */
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  initializerCount: number;
  /** TensorProto.DataType codes of the initializers (e.g. ONNX_FLOAT, ONNX_FLOAT16). */
  initializerTypes: Set<number>;
  /** Initializers whose data lives in another file (external data), in order. */
  externalData: string[];
}

/** ONNX TensorProto.DataType codes of the float types. */
export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;
export const ONNX_BFLOAT16 = 16;

/** ONNX TensorProto.DataType codes to onnxruntime-web's type names. */
const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Field numbers of the messages walked (onnx.proto3). */
const MODEL = { irVersion: 1, graph: 7, opsetImport: 8 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { initializer: 5, input: 11, output: 12 } as const;
const TENSOR = { dataType: 2, name: 8, externalData: 13, dataLocation: 14 } as const;
const STRING_ENTRY = { key: 1, value: 2 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensor: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { value: 1, param: 2 } as const;

const WINDOW = 64 * 1024;
const MAX_VARINT = 10;

/** A buffered cursor over the source: reads 64 KB windows, parses within them synchronously. */
class Cursor {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  pos = 0;

  constructor(
    private readonly source: RandomAccessSource,
    readonly what: string,
  ) {}

  private async ensure(count: number): Promise<void> {
    const have = this.windowStart + this.window.byteLength;
    if (this.pos >= this.windowStart && this.pos + count <= have) return;
    this.windowStart = this.pos;
    this.window = await this.source.read(this.pos, Math.max(count, WINDOW));
  }

  fail(problem: string): never {
    throw new OnnxParseError(
      `${this.what} is not a valid ONNX model: ${problem} (at byte ${this.pos})`,
    );
  }

  async varint(end: number): Promise<number> {
    await this.ensure(Math.min(MAX_VARINT, end - this.pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT; i++) {
      if (this.pos >= end) this.fail('a number runs past the end of its message');
      const byte = this.window[this.pos - this.windowStart];
      this.pos++;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return value;
    }
    return this.fail('a number longer than 10 bytes');
  }

  async bytes(length: number): Promise<Uint8Array> {
    await this.ensure(length);
    const start = this.pos - this.windowStart;
    this.pos += length;
    return this.window.subarray(start, start + length);
  }

  async string(length: number): Promise<string> {
    return new TextDecoder('utf-8', { fatal: false }).decode(await this.bytes(length));
  }
}

interface Field {
  number: number;
  wire: number;
  /** For LEN fields: where the payload starts and ends. */
  start: number;
  end: number;
}

/** Reads the next field's tag (and a LEN field's extent), checked against `end`. */
async function nextField(c: Cursor, end: number): Promise<Field> {
  const tag = await c.varint(end);
  const number = Math.floor(tag / 8);
  const wire = tag % 8;
  if (number < 1) c.fail('a field numbered 0');
  switch (wire) {
    case WIRE_VARINT:
      // A varint's length is known only once read: `end` is the bound of its message.
      return { number, wire, start: c.pos, end };
    case WIRE_I64:
    case WIRE_I32: {
      const size = wire === WIRE_I64 ? 8 : 4;
      if (c.pos + size > end) c.fail('a fixed-size value runs past the end of its message');
      return { number, wire, start: c.pos, end: c.pos + size };
    }
    case WIRE_LEN: {
      const length = await c.varint(end);
      if (c.pos + length > end)
        c.fail(`field ${number} claims ${length} bytes, more than its message has left`);
      return { number, wire, start: c.pos, end: c.pos + length };
    }
    default:
      return c.fail(`wire type ${wire} (field ${number}) does not occur in ONNX files`);
  }
}

/** Moves past a field's payload without reading it (except a varint's bytes). */
async function skip(c: Cursor, field: Field, end: number): Promise<void> {
  if (field.wire === WIRE_VARINT) await c.varint(end);
  else c.pos = field.end;
}

/** Walks the fields of one message, handing those in `handlers` their payload range. */
async function walk(
  c: Cursor,
  end: number,
  handlers: Record<number, (field: Field) => Promise<void>>,
): Promise<void> {
  while (c.pos < end) {
    const field = await nextField(c, end);
    const handle = handlers[field.number];
    if (handle) {
      const at = c.pos;
      await handle(field);
      // A handler that parsed a LEN payload must have ended exactly at its end.
      if (field.wire === WIRE_LEN && c.pos !== field.end) {
        c.pos = at;
        c.fail(`field ${field.number} does not end where its length says`);
      }
    } else {
      await skip(c, field, end);
    }
  }
  if (c.pos !== end) c.fail('a message does not end where its length says');
}

function expectWire(c: Cursor, field: Field, wire: number, what: string): void {
  if (field.wire !== wire) c.fail(`${what} has the wrong wire type ${field.wire}`);
}

async function readValueInfo(c: Cursor, field: Field, what: string): Promise<TensorMetadata> {
  expectWire(c, field, WIRE_LEN, what);
  let name = '';
  let type = 'non-tensor';
  let shape: (number | string)[] | undefined;
  await walk(c, field.end, {
    [VALUE_INFO.name]: async (f) => {
      expectWire(c, f, WIRE_LEN, `${what} name`);
      name = await c.string(f.end - f.start);
    },
    [VALUE_INFO.type]: async (f) => {
      expectWire(c, f, WIRE_LEN, `${what} type`);
      await walk(c, f.end, {
        [TYPE.tensor]: async (t) => {
          expectWire(c, t, WIRE_LEN, `${what} tensor type`);
          type = 'unknown';
          await walk(c, t.end, {
            [TENSOR_TYPE.elemType]: async (e) => {
              expectWire(c, e, WIRE_VARINT, `${what} element type`);
              const code = await c.varint(e.end);
              type = ELEMENT_TYPES[code] ?? `onnx-type-${code}`;
            },
            [TENSOR_TYPE.shape]: async (s) => {
              expectWire(c, s, WIRE_LEN, `${what} shape`);
              shape = [];
              await walk(c, s.end, {
                [SHAPE.dim]: async (d) => {
                  expectWire(c, d, WIRE_LEN, `${what} dimension`);
                  let dim: number | string = '?';
                  await walk(c, d.end, {
                    [DIM.value]: async (v) => {
                      expectWire(c, v, WIRE_VARINT, `${what} dimension value`);
                      const n = await c.varint(v.end);
                      // Negative int64s are 10-byte varints: an unknown size.
                      dim = n < 2 ** 53 ? n : '?';
                    },
                    [DIM.param]: async (p) => {
                      expectWire(c, p, WIRE_LEN, `${what} dimension name`);
                      dim = await c.string(p.end - p.start);
                    },
                  });
                  shape!.push(dim);
                },
              });
            },
          });
        },
      });
    },
  });
  if (!name) c.fail(`${what} without a name`);
  return shape ? { name, type, shape } : { name, type };
}

/** Reads the interface of the ONNX model in `source`; `what` names it in errors. */
export async function readOnnxHeader(
  source: RandomAccessSource,
  what: string,
): Promise<OnnxHeader> {
  const c = new Cursor(source, what);
  if (source.size === 0) c.fail('the file is empty');
  let irVersion = 0;
  const opsets: Record<string, number> = {};
  let graphs = 0;
  const inputs: TensorMetadata[] = [];
  const outputs: TensorMetadata[] = [];
  const initializers = new Set<string>();
  const initializerTypes = new Set<number>();
  const externalData: string[] = [];

  await walk(c, source.size, {
    [MODEL.irVersion]: async (f) => {
      expectWire(c, f, WIRE_VARINT, 'ir_version');
      irVersion = await c.varint(f.end);
    },
    [MODEL.opsetImport]: async (f) => {
      expectWire(c, f, WIRE_LEN, 'opset_import');
      let domain = '';
      let version = 0;
      await walk(c, f.end, {
        [OPSET.domain]: async (d) => {
          expectWire(c, d, WIRE_LEN, 'opset domain');
          domain = await c.string(d.end - d.start);
        },
        [OPSET.version]: async (v) => {
          expectWire(c, v, WIRE_VARINT, 'opset version');
          version = await c.varint(v.end);
        },
      });
      opsets[domain] = version;
    },
    [MODEL.graph]: async (f) => {
      expectWire(c, f, WIRE_LEN, 'graph');
      graphs++;
      await walk(c, f.end, {
        [GRAPH.initializer]: async (t) => {
          expectWire(c, t, WIRE_LEN, 'initializer');
          let name = '';
          let external = false;
          await walk(c, t.end, {
            [TENSOR.dataType]: async (d) => {
              expectWire(c, d, WIRE_VARINT, 'initializer data_type');
              initializerTypes.add(await c.varint(d.end));
            },
            [TENSOR.name]: async (n) => {
              expectWire(c, n, WIRE_LEN, 'initializer name');
              name = await c.string(n.end - n.start);
            },
            [TENSOR.dataLocation]: async (l) => {
              expectWire(c, l, WIRE_VARINT, 'initializer data_location');
              external = (await c.varint(l.end)) === 1;
            },
            [TENSOR.externalData]: async (e) => {
              expectWire(c, e, WIRE_LEN, 'initializer external_data');
              let key = '';
              let value = '';
              await walk(c, e.end, {
                [STRING_ENTRY.key]: async (k) => {
                  key = await c.string(k.end - k.start);
                },
                [STRING_ENTRY.value]: async (v) => {
                  value = await c.string(v.end - v.start);
                },
              });
              if (key === 'location') externalData.push(value);
            },
          });
          if (external && externalData.length === 0) externalData.push(`(${name})`);
          initializers.add(name);
        },
        [GRAPH.input]: async (i) => {
          inputs.push(await readValueInfo(c, i, 'a graph input'));
        },
        [GRAPH.output]: async (o) => {
          outputs.push(await readValueInfo(c, o, 'a graph output'));
        },
      });
    },
  });

  c.pos = 0;
  if (graphs !== 1) c.fail(graphs === 0 ? 'it has no graph' : 'it has more than one graph');
  if (irVersion < 1) c.fail('it has no ir_version');
  if (outputs.length === 0) c.fail('its graph has no outputs');
  return {
    irVersion,
    opsets,
    inputs: inputs.filter((i) => !initializers.has(i.name)),
    outputs,
    initializerCount: initializers.size,
    initializerTypes,
    externalData: [...new Set(externalData)],
  };
}
