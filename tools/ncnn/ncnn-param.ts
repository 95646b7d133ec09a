/**
 * Parser for ncnn's text `.param` files (magic 7767517): one layer a line,
 * `Type Name bottomCount topCount bottoms... tops... key=value...`. A key at or below -23300 holds
 * an array: `-23310=2,0.2,1.0` is key 10 with the values [0.2, 1.0] (the first number is the count).
 */
export const NCNN_MAGIC = 7767517;

export type NcnnParamValue = number | number[];

export interface NcnnLayer {
  type: string;
  name: string;
  bottoms: string[];
  tops: string[];
  /** Param id -> value; array params are stored under their plain id (-23310 -> 10). */
  params: Map<number, NcnnParamValue>;
}

export interface NcnnParam {
  layers: NcnnLayer[];
  blobCount: number;
}

export function parseNcnnParam(text: string, source = '.param'): NcnnParam {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (Number(lines[0]) !== NCNN_MAGIC) {
    throw new Error(`${source}: magic ${lines[0]} is not ${NCNN_MAGIC} (not an ncnn text param)`);
  }
  const [layerCount, blobCount] = (lines[1] ?? '').split(/\s+/).map(Number);
  if (!Number.isInteger(layerCount) || !Number.isInteger(blobCount)) {
    throw new Error(`${source}: bad header line "${lines[1]}"`);
  }
  const layers: NcnnLayer[] = [];
  for (let i = 2; i < lines.length; i++) {
    const fields = lines[i].split(/\s+/);
    const [type, name, nb, nt] = fields;
    const bottomCount = Number(nb);
    const topCount = Number(nt);
    if (!type || !name || !Number.isInteger(bottomCount) || !Number.isInteger(topCount)) {
      throw new Error(`${source} line ${i + 1}: cannot parse "${lines[i]}"`);
    }
    const bottoms = fields.slice(4, 4 + bottomCount);
    const tops = fields.slice(4 + bottomCount, 4 + bottomCount + topCount);
    if (tops.length !== topCount) throw new Error(`${source} line ${i + 1}: missing blob names`);
    const params = new Map<number, NcnnParamValue>();
    for (const kv of fields.slice(4 + bottomCount + topCount)) {
      const m = /^(-?\d+)=(.*)$/.exec(kv);
      if (!m) throw new Error(`${source} line ${i + 1} (${name}): bad param "${kv}"`);
      const key = Number(m[1]);
      if (key <= -23300) {
        const values = m[2].split(',').map(Number);
        const count = values.shift();
        if (count !== values.length || values.some((v) => Number.isNaN(v))) {
          throw new Error(`${source} line ${i + 1} (${name}): bad array param "${kv}"`);
        }
        params.set(-key - 23300, values);
      } else {
        const v = Number(m[2]);
        if (Number.isNaN(v))
          throw new Error(`${source} line ${i + 1} (${name}): bad param "${kv}"`);
        params.set(key, v);
      }
    }
    layers.push({ type, name, bottoms, tops, params });
  }
  if (layers.length !== layerCount) {
    throw new Error(`${source}: header says ${layerCount} layers, found ${layers.length}`);
  }
  return { layers, blobCount };
}

/** A scalar param with a default; an array where a scalar is expected is an error. */
export function intParam(layer: NcnnLayer, id: number, fallback: number): number {
  const v = layer.params.get(id);
  if (v === undefined) return fallback;
  if (Array.isArray(v)) throw new Error(`${layer.type} ${layer.name}: param ${id} is an array`);
  return v;
}

export function arrayParam(layer: NcnnLayer, id: number): number[] | undefined {
  const v = layer.params.get(id);
  if (v === undefined) return undefined;
  if (!Array.isArray(v))
    throw new Error(`${layer.type} ${layer.name}: param ${id} is not an array`);
  return v;
}

/** Throws naming the first param of `layer` outside `known`. */
export function checkParams(layer: NcnnLayer, known: readonly number[]): void {
  for (const id of layer.params.keys()) {
    if (!known.includes(id)) {
      throw new Error(`${layer.type} ${layer.name}: unsupported param ${id}`);
    }
  }
}
