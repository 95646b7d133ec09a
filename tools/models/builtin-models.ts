/**
 * Builds the built-in models (Real-ESRGAN from ncnn, tools/ncnn/; UpscalerJS ESRGAN from TF.js,
 * tools/esrgan/) into public/models: <id>/model.onnx, <id>/manifest.json and
 * index.json, skipping models whose files are current (see build-stamp.ts). The converter is
 * imported only when something has to be converted, so the up-to-date check stays fast.
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
} from '../ncnn/catalog.ts';
import { readStamp, stampKey, STAMP_FILE, type BuildStamp } from './build-stamp.ts';

export interface BuildOptions {
  repoRoot: string;
  /** Default: <repoRoot>/public/models. */
  outDir?: string;
  /** Default: <repoRoot>/node_modules. */
  nodeModules?: string;
  /** Rebuild everything even when current. */
  force?: boolean;
  /** Called after each converted model, with how often each exact rewrite applied to it. */
  onModel?: (manifest: BuiltinModelManifest, ms: number, rewrites: Record<string, number>) => void;
}

export type BuildResult =
  | { status: 'current'; models: number; bytes: number }
  | { status: 'built'; models: number; converted: string[]; bytes: number; ms: number }
  | { status: 'missing-sources'; missing: string[]; existing: boolean };

export async function buildBuiltinModels(options: BuildOptions): Promise<BuildResult> {
  const start = performance.now();
  const outDir = options.outDir ?? path.join(options.repoRoot, 'public', 'models');
  const nodeModules = options.nodeModules ?? path.join(options.repoRoot, 'node_modules');
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
  const indexCurrent = await exists(indexFile);
  if (!todo.length && indexCurrent && old?.key === key) {
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
        ? await convertRealEsrgan(nodeModules, spec.realEsrgan)
        : await convertEsrgan(nodeModules, spec.esrgan);
    const dir = path.join(outDir, spec.id);
    await mkdir(dir, { recursive: true });
    await writeAtomic(path.join(dir, manifest.file), bytes);
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
  };
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
