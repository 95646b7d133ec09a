/**
 * The postMessage API of the embedded app (`?embed`), version 1. docs/embed.md documents it for
 * the pages that embed GenDR Web.
 */

export const EMBED_PROTOCOL_VERSION = 1;

export type EmbedId = string | number;

export interface EmbedRestoreOptions {
  /** A model id listed in the `ready` message: a built-in id such as 'esrgan-slim-x2', or `pack/<id>` for an installed pack the deployment offers (docs/embed.md). Default: the app's default. */
  model?: string;
  backend?: 'auto' | 'webgpu' | 'wasm';
  /** Format of the result Blob (default 'png'). */
  format?: 'png' | 'webp' | 'jpeg';
  /** For webp / jpeg, 0..1 (default 0.9). */
  quality?: number;
  /**
   * Streamed tiles in `progress` messages: 'rects' adds each finished tile's rectangle (output
   * pixels), 'pixels' also its RGBA as an ImageData. Default 'none'.
   */
  tiles?: 'none' | 'rects' | 'pixels';
}

/** Messages the embedding page sends. */
export type EmbedRequest =
  | {
      type: 'restore';
      id: EmbedId;
      /** The photo: an encoded file (Blob or ArrayBuffer, e.g. PNG/JPEG/WebP) or an ImageBitmap. */
      image: Blob | ArrayBuffer | ImageBitmap;
      options?: EmbedRestoreOptions;
    }
  | { type: 'cancel'; id: EmbedId }
  | { type: 'ping' };

export type EmbedStage = 'queued' | 'decoding' | 'loading-runtime' | 'loading-model' | 'restoring';

export interface EmbedRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type EmbedErrorCode =
  | 'invalid-message'
  | 'too-large'
  | 'unsupported-image'
  | 'unknown-model'
  | 'busy'
  | 'cancelled'
  | 'restore-failed';

/** Messages the embedded app sends back (only to the origin of the page that asked). */
export type EmbedResponse =
  | {
      type: 'ready';
      protocol: typeof EMBED_PROTOCOL_VERSION;
      models: { id: string; name: string; scale: number }[];
      defaultModel: string;
      crossOriginIsolated: boolean;
      /** WASM threads available: 1 without cross-origin isolation. */
      threads: number;
    }
  | {
      type: 'progress';
      id: EmbedId;
      stage: EmbedStage;
      /** Tiles done and in total (0/0 before the tiles are planned). */
      done: number;
      total: number;
      /** Output size, once known. */
      width?: number;
      height?: number;
      tile?: EmbedRect;
      pixels?: ImageData;
    }
  | {
      type: 'result';
      id: EmbedId;
      image: Blob;
      width: number;
      height: number;
      model: string;
      backend: 'webgpu' | 'wasm';
      threads: number;
      /** On WASM: 'kernels' (the fast hand-written kernels) or 'onnxruntime'; null on WebGPU. */
      cpuEngine: 'kernels' | 'onnxruntime' | null;
      /** Milliseconds from the request to the result. */
      ms: number;
    }
  | { type: 'error'; id: EmbedId | null; code: EmbedErrorCode; message: string };
