/**
 * Runs an original UpscalerJS model with TensorFlow.js (CPU backend) as the reference for parity
 * tests. Files are read from disk with an IOHandler of our own (shards concatenated in manifest
 * order); weight decoding, dequantization included, is left to TF.js itself.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerUpscalerLayers } from './upscalerjs-layers.ts';
import type { PlanarImage } from './test-image.ts';

let backendReady: Promise<void> | null = null;

async function cpuBackend(): Promise<void> {
  backendReady ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('TF.js CPU backend unavailable');
  });
  await backendReady;
}

/** A TF.js IOHandler reading `<dir>/model.json` and its shards from disk. */
export function diskModelHandler(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(
        await readFile(path.join(dir, 'model.json'), 'utf8'),
      ) as tf.io.ModelJSON;
      const shards = await Promise.all(
        json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p))),
      );
      const all = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

export async function loadTfjsModel(dir: string): Promise<tf.LayersModel> {
  await cpuBackend();
  registerUpscalerLayers();
  return tf.loadLayersModel(diskModelHandler(dir));
}

/** Runs the model on a planar (NCHW, batch 1) image and returns its output, planar too. */
export function runTfjsModel(model: tf.LayersModel, image: PlanarImage): PlanarImage {
  const { channels, height, width } = image;
  const output = tf.tidy(() => {
    const nchw = tf.tensor4d(image.data, [1, channels, height, width]);
    const out = model.predict(tf.transpose(nchw, [0, 2, 3, 1])) as tf.Tensor4D;
    return tf.transpose(out, [0, 3, 1, 2]);
  });
  const [, c, h, w] = output.shape;
  const data = output.dataSync() as Float32Array;
  output.dispose();
  return { channels: c, height: h, width: w, data: Float32Array.from(data) };
}
