/**
 * What an architecture module produces: ONNX graphs for pack components plus the manifest facts
 * that follow from the architecture. The `convert` command (tools/cli/commands/convert.ts) lists
 * one converter per architecture in its CONVERTERS table.
 */
import type { Precision } from '../weights.ts';

export type PackComponent = 'vae_encoder' | 'unet' | 'vae_decoder';

export interface BuiltGraph {
  component: PackComponent;
  /** Serialized ONNX ModelProto. */
  model: Uint8Array;
  parameters: number;
  nodes: number;
}

/** Manifest fields an architecture knows (the rest come from presets or the command line). */
export interface VaeFacts {
  latentChannels: number;
  downscaleFactor: number;
  /** Image value range the VAE takes and returns. */
  imageRange: [number, number];
  /** Name of the encoder's output: the latent itself, or mean and log-variance stacked on channels. */
  encoderOutput: 'latent_sample' | 'latent_parameters';
}

export interface VaeBuild {
  graphs: BuiltGraph[];
  facts: VaeFacts;
}

export interface BuildOptions {
  precision: Precision;
  opset?: number;
}
