/**
 * Converts one UpscalerJS ESRGAN model, read straight from node_modules, to ONNX plus the manifest
 * the engine reads (engine/models/builtin-manifest.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltinModelManifest } from '../../engine/models/builtin-manifest.ts';
import type { EsrganModelSpec } from './catalog.ts';
import {
  convertLayersModel,
  type ConvertedModel,
  type ConvertOptions,
} from './convert-layers-model.ts';
import { readLayersModel } from './tfjs-layers-model.ts';

export const MODEL_FILE = 'model.onnx';

export interface ConvertedEsrgan {
  bytes: Uint8Array;
  manifest: BuiltinModelManifest;
  converted: ConvertedModel;
}

/** Folder of a package's files under `nodeModules`. */
export function packageDir(nodeModules: string, pkg: string): string {
  return path.join(nodeModules, ...pkg.split('/'));
}

export async function packageVersion(nodeModules: string, pkg: string): Promise<string> {
  const json = JSON.parse(
    await readFile(path.join(packageDir(nodeModules, pkg), 'package.json'), 'utf8'),
  ) as {
    version?: string;
  };
  if (!json.version) throw new Error(`${pkg}: package.json has no version`);
  return json.version;
}

/**
 * Converts `spec`. The output is clipped to the model's input range unless `options.clipOutput`
 * says otherwise; other options (e.g. the DepthToSpace mode, `exactRewrites: false`) pass through
 * to the converter. With the exact rewrites (the default) every UpSampling2D must have been folded
 * into the conv after it: the app's WASM kernels cannot run a Resize.
 */
export async function convertEsrgan(
  nodeModules: string,
  spec: EsrganModelSpec,
  options: ConvertOptions = {},
): Promise<ConvertedEsrgan> {
  const { family } = spec;
  const dir = path.dirname(path.join(packageDir(nodeModules, family.package), spec.path));
  const model = await readLayersModel(dir);
  const converted = convertLayersModel(model, {
    graphName: spec.id,
    clipOutput: family.inputRange,
    ...options,
  });
  if (converted.scale !== spec.scale) {
    throw new Error(`${spec.id}: the graph upscales by ${converted.scale}, expected ${spec.scale}`);
  }
  const upsamplings = converted.layerClasses.UpSampling2D ?? 0;
  if (converted.rewrites && converted.rewrites.foldUpsampleConv !== upsamplings) {
    throw new Error(
      `${spec.id}: ${converted.rewrites.foldUpsampleConv} of ${upsamplings} UpSampling2D layers ` +
        'folded into a conv; the rest would stay Resize nodes',
    );
  }
  const bytes = converted.bytes;
  const manifest: BuiltinModelManifest = {
    id: spec.id,
    name: spec.name,
    description: family.description,
    architecture: family.architecture,
    family: family.family,
    scale: spec.scale,
    inputRange: [...family.inputRange],
    licence: 'MIT',
    group: 'classic',
    source: {
      package: family.package,
      version: await packageVersion(nodeModules, family.package),
      path: spec.path,
    },
    file: MODEL_FILE,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    tileMargin: converted.tileMargin,
    opset: converted.opset,
  };
  return { bytes, manifest, converted };
}
