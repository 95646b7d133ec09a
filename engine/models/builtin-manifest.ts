/**
 * Manifest of a built-in (convolutional, image-to-image) model, as written by the build step
 * (tools/models/build-models.ts) to public/models/<id>/manifest.json. All of them are listed in
 * public/models/index.json as `{ version: 1, default: <id>, models: BuiltinModelManifest[] }`.
 */
export interface BuiltinModelManifest {
  /** e.g. 'esrgan-medium-x4'; also the folder name under public/models/. */
  id: string;
  /** Human name, e.g. 'ESRGAN medium ×4'. */
  name: string;
  /** One line for the model picker. */
  description: string;
  /** 'rdn' (slim, medium) or 'rrdn' (thick). */
  architecture: string;
  /** 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick'. */
  family: string;
  scale: number;
  /** Value range the model takes; its output uses the same range and is clipped to it. */
  inputRange: [number, number];
  licence: string;
  source: { package: string; version: string; path: string };
  /** The ONNX file, relative to the manifest. */
  file: string;
  bytes: number;
  sha256: string;
  /** Receptive-field radius in input pixels: tile overlap must be at least this for exact tiling. */
  tileMargin: number;
  opset: number;
}

export interface BuiltinModelIndex {
  version: 1;
  default: string;
  models: BuiltinModelManifest[];
}
