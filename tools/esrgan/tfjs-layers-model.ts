/**
 * Reads a TF.js layers model (model.json + weight shards) from a folder on disk, as written by the
 * TensorFlow.js converter from a Keras functional model.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeWeights, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.ts';

/** `[layerName, nodeIndex, tensorIndex, kwargs]` as Keras serialises a layer's input. */
export type KerasInboundRef = [string, number, number, Record<string, unknown>?];

export interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: KerasInboundRef[][];
}

export interface KerasFunctionalConfig {
  name?: string;
  layers: KerasLayer[];
  input_layers: [string, number, number][];
  output_layers: [string, number, number][];
}

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: {
    keras_version?: string;
    backend?: string;
    model_config: { class_name: string; config: KerasFunctionalConfig };
  };
  weightsManifest: TfjsWeightGroup[];
}

export interface LayersModel {
  /** The parsed model.json. */
  json: TfjsModelJson;
  /** The functional graph (model_config.config). */
  graph: KerasFunctionalConfig;
  weights: Map<string, DecodedWeight>;
}

/** Reads `<dir>/model.json` and its shards (concatenated in manifest order) and decodes weights. */
export async function readLayersModel(dir: string): Promise<LayersModel> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new Error(`${dir}: format ${json.format} is not a layers model`);
  }
  const modelConfig = json.modelTopology?.model_config;
  if (!modelConfig || !['Functional', 'Model'].includes(modelConfig.class_name)) {
    throw new Error(`${dir}: expected a Keras functional model, got ${modelConfig?.class_name}`);
  }
  const shards = json.weightsManifest.flatMap((group) => group.paths);
  const buffers = await Promise.all(shards.map((p) => readFile(path.join(dir, p))));
  const bytes = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of buffers) {
    bytes.set(b, offset);
    offset += b.length;
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  return { json, graph: modelConfig.config, weights: decodeWeights(specs, bytes) };
}
