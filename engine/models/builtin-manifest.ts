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
  /** 'rdn' (slim, medium), 'rrdn' (thick), 'rrdbnet' or 'srvggnet-compact' (Real-ESRGAN). */
  architecture: string;
  /** 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick' | 'real-esrgan'. */
  family: string;
  scale: number;
  /** Value range the model takes; its output uses the same range and is clipped to it. */
  inputRange: [number, number];
  licence: string;
  source: { package: string; version: string; path: string };
  /** sha256 of each source file the model was converted from, by file name (ncnn models). */
  sourceSha256?: Record<string, string>;
  /** Picker group: 'photo' and 'anime' (Real-ESRGAN), 'classic' (UpscalerJS ESRGAN). */
  group?: 'photo' | 'anime' | 'classic';
  /** Within a group: 'best' quality or 'fast'. */
  tier?: 'best' | 'fast';
  /** The ONNX file, relative to the manifest. */
  file: string;
  bytes: number;
  sha256: string;
  /** Receptive-field radius in input pixels: tile overlap must be at least this for exact tiling. */
  tileMargin: number;
  opset: number;
  /**
   * Other forms of the same model beside `file`. `fp16`: weights and activations in half
   * precision, float32 input and output (tools/onnx/to-fp16.ts), for WebGPU adapters with
   * shader-f16 only (engine/models/builtin-precision.ts).
   */
  variants?: { fp16?: BuiltinModelVariant };
}

/** One more ONNX file of a built-in model, relative to its manifest. */
export interface BuiltinModelVariant {
  file: string;
  bytes: number;
  sha256: string;
}

export interface BuiltinModelIndex {
  version: 1;
  default: string;
  /** Model to pick instead of `default` when a hardware WebGPU adapter exists. */
  defaultGpu?: string;
  models: BuiltinModelManifest[];
}
