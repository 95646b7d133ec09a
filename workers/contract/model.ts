/**
 * What the page asks the restore worker to run: one model descriptor, a case per kind of model.
 * A new kind of model adds a case here and a runner in workers/restore/runners/, never an id
 * prefix or a flag.
 *
 * - builtin: a convolutional image-to-image model shipped with the app (public/models/<id>/),
 *   described by its manifest from the build step.
 * - pack: an installed model pack (GenDR, OSEDiff, ...) in the origin private file system, run by
 *   the latent pipeline.
 */
import type {
  BuiltinModelManifest,
  BuiltinModelIndex,
} from '../../engine/models/builtin-manifest.ts';
import type { ColorFix } from '../../engine/latent/color-fix.ts';
import type { InstalledPack } from './pack-store-protocol.ts';

export type { BuiltinModelManifest, BuiltinModelIndex, ColorFix, InstalledPack };

export interface BuiltinModel {
  kind: 'builtin';
  manifest: BuiltinModelManifest;
}

export interface PackModel {
  kind: 'pack';
  pack: InstalledPack;
  /** Colour fix after decoding (AdaIN when absent). */
  colorFix?: ColorFix;
}

export type ModelDescriptor = BuiltinModel | PackModel;
export type ModelKind = ModelDescriptor['kind'];

/** A key that tells models apart in lists and settings (not parsed by anyone). */
export function modelKey(model: ModelDescriptor): string {
  switch (model.kind) {
    case 'builtin':
      return model.manifest.id;
    case 'pack':
      return `pack/${model.pack.id}`;
  }
}

/** The model's own upscale factor. */
export function modelScale(model: ModelDescriptor): number {
  switch (model.kind) {
    case 'builtin':
      return model.manifest.scale;
    case 'pack':
      return model.pack.scale;
  }
}

/** The name shown to users. */
export function modelName(model: ModelDescriptor): string {
  switch (model.kind) {
    case 'builtin':
      return model.manifest.name;
    case 'pack':
      return `${model.pack.name} ×${model.pack.scale}`;
  }
}
