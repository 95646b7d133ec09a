/**
 * The built-in models as the command line sees them: public/models/index.json, and resolving
 * `--model <id|family>` plus `--scale`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  BuiltinModelIndex,
  BuiltinModelManifest,
} from '../../engine/models/builtin-manifest.ts';
import { UsageError } from './usage-error.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the build step writes the built-in models (override with GENDR_MODELS_DIR). */
export const defaultModelsDir =
  process.env.GENDR_MODELS_DIR ?? path.join(repoRoot, 'public', 'models');

export const DEFAULT_FAMILY = 'medium';
export const DEFAULT_SCALE = 4;

export async function loadModelIndex(modelsDir = defaultModelsDir): Promise<BuiltinModelIndex> {
  const file = path.join(modelsDir, 'index.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(
      `no built-in models at ${modelsDir} (missing index.json): run \`npm run models\` to build them`,
    );
  }
  const index = JSON.parse(text) as BuiltinModelIndex;
  if (index.version !== 1 || !Array.isArray(index.models)) {
    throw new Error(`${file}: unsupported model index (version ${String(index.version)})`);
  }
  return index;
}

/** The ONNX file of a built-in model. */
export function modelFile(manifest: BuiltinModelManifest, modelsDir = defaultModelsDir): string {
  return path.join(modelsDir, manifest.id, manifest.file);
}

/** The short family name: 'esrgan-medium' -> 'medium'. */
export function shortFamily(manifest: BuiltinModelManifest): string {
  return manifest.family.replace(/^esrgan-/, '');
}

/** Output scales any model can be resized to after its own scale (as Real-ESRGAN's --outscale). */
export const OUT_SCALES = [2, 3, 4] as const;

export interface ResolvedModel {
  manifest: BuiltinModelManifest;
  /** The scale of the written image: the model's own, or one of OUT_SCALES after a resize. */
  outScale: number;
}

/**
 * Picks a model from `--model` (a built-in id like 'esrgan-slim-x2', or a family: 'slim',
 * 'esrgan-slim', ...) and `--scale`. Without `--model`: index.json's default model, resized to
 * `--scale` when that differs from its own. A family picks its model of that scale; an id runs its
 * own scale, then resizes to `--scale` (2, 3 or 4).
 */
export function resolveUpscale(
  index: BuiltinModelIndex,
  model: string | undefined,
  scale: number | undefined,
): ResolvedModel {
  const byId = index.models.find((m) => m.id === (model ?? index.default));
  if (byId) {
    if (scale === undefined || scale === byId.scale)
      return { manifest: byId, outScale: byId.scale };
    if (!(OUT_SCALES as readonly number[]).includes(scale)) {
      throw new UsageError(
        `--scale ${scale} conflicts with ${byId.id} (a x${byId.scale} model): ` +
          `use its own scale or ${OUT_SCALES.join(', ')}`,
      );
    }
    return { manifest: byId, outScale: scale };
  }
  return { manifest: resolveModel(index, model, scale), outScale: scale ?? DEFAULT_SCALE };
}

/** A family's model of `scale` (default DEFAULT_FAMILY x DEFAULT_SCALE), or a model by id. */
export function resolveModel(
  index: BuiltinModelIndex,
  model: string | undefined,
  scale: number | undefined,
): BuiltinModelManifest {
  const byId = model ? index.models.find((m) => m.id === model) : undefined;
  if (byId) {
    if (scale !== undefined && scale !== byId.scale) {
      throw new UsageError(
        `--scale ${scale} conflicts with --model ${model} (a x${byId.scale} model)`,
      );
    }
    return byId;
  }
  const family = model ?? DEFAULT_FAMILY;
  const want = scale ?? DEFAULT_SCALE;
  const inFamily = index.models.filter((m) => m.family === family || shortFamily(m) === family);
  if (!inFamily.length) {
    const families = [...new Set(index.models.map(shortFamily))].join(', ');
    throw new UsageError(
      `unknown model '${family}': use a family (${families}) or an id from \`gendr-web models\``,
    );
  }
  const found = inFamily.find((m) => m.scale === want);
  if (!found) {
    const scales = inFamily.map((m) => m.scale).join(', ');
    throw new UsageError(`model '${family}' has no x${want} version (scales: ${scales})`);
  }
  return found;
}
