/**
 * Converts one Real-ESRGAN ncnn model (catalog.ts), read straight from node_modules (or, for a
 * package fetched as a tarball, from the folder npm-tarball.ts extracted it to), to ONNX plus the
 * manifest the engine reads (engine/models/builtin-manifest.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltinModelManifest } from '../../engine/models/builtin-manifest.ts';
import { MODEL_FILE, packageDir, packageVersion } from '../esrgan/convert-esrgan.ts';
import { REAL_ESRGAN_LICENCE, type RealEsrganSpec } from './catalog.ts';
import { convertNcnn, type NcnnConverted, type NcnnConvertOptions } from './convert-ncnn.ts';
import { tarballCacheDir, tarballFilesDir } from './npm-tarball.ts';

export interface ConvertedRealEsrgan {
  bytes: Uint8Array;
  manifest: BuiltinModelManifest;
  converted: NcnnConverted;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The paths of `spec`'s .param and .bin inside its package. */
export function realEsrganPackageFiles(spec: RealEsrganSpec): string[] {
  return [`${spec.dir}/${spec.base}.param`, `${spec.dir}/${spec.base}.bin`];
}

/**
 * The .param and .bin paths of `spec` under `nodeModules`, or, for a tarball package, in the
 * cache folder (tarballCacheDir(nodeModules) unless given) once npmTarballFiles has run.
 */
export function realEsrganFiles(
  nodeModules: string,
  spec: RealEsrganSpec,
  cacheDir = tarballCacheDir(nodeModules),
): { param: string; bin: string } {
  const root = spec.tarball
    ? tarballFilesDir(cacheDir, spec.tarball)
    : packageDir(nodeModules, spec.package);
  const base = path.join(root, spec.dir, spec.base);
  return { param: `${base}.param`, bin: `${base}.bin` };
}

export async function convertRealEsrgan(
  nodeModules: string,
  spec: RealEsrganSpec,
  options: NcnnConvertOptions = {},
  cacheDir?: string,
): Promise<ConvertedRealEsrgan> {
  const files = realEsrganFiles(nodeModules, spec, cacheDir);
  const param = await readFile(files.param);
  const bin = await readFile(files.bin);
  const converted = convertNcnn(
    param.toString('utf8'),
    new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength),
    { graphName: spec.id, clipOutput: [0, 1], ...options },
    { param: path.basename(files.param), bin: path.basename(files.bin) },
  );
  if (converted.scale !== spec.scale) {
    throw new Error(`${spec.id}: the graph upscales by ${converted.scale}, expected ${spec.scale}`);
  }
  const bytes = converted.bytes;
  const manifest: BuiltinModelManifest = {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    architecture: spec.architecture,
    family: spec.family,
    scale: spec.scale,
    inputRange: [0, 1],
    licence: REAL_ESRGAN_LICENCE,
    source: {
      package: spec.package,
      version: spec.tarball?.version ?? (await packageVersion(nodeModules, spec.package)),
      path: `${spec.dir}/${spec.base}.{param,bin}`,
    },
    sourceSha256: {
      [`${spec.base}.param`]: sha256(param),
      [`${spec.base}.bin`]: sha256(bin),
    },
    group: spec.group,
    tier: spec.tier,
    file: MODEL_FILE,
    bytes: bytes.length,
    sha256: sha256(bytes),
    tileMargin: converted.tileMargin,
    opset: converted.opset,
  };
  return { bytes, manifest, converted };
}
