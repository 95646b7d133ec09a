/**
 * Runs each graph of a loaded pack once on given float inputs and returns the raw float outputs,
 * so runtimes (onnxruntime-node, Chromium WASM / WebGPU) can be compared before any 8-bit
 * rounding. Runtime-free like the engine: used by e2e/latent-harness.ts in the page and by the
 * specs in Node.
 */
import type { LoadedPack } from '../engine/latent/pack-loader.ts';
import { floatTensor, readFloat } from '../engine/latent/tensors.ts';
import type { EngineSession, EngineTensor, TensorFactory } from '../engine/session.ts';

export interface GraphInputs {
  /** Encoder input [1, 3, h, w] in the VAE's range. */
  image: { data: number[]; dims: number[] };
  /** UNet sample and decoder input [1, C, h/f, w/f]. */
  latent: { data: number[]; dims: number[] };
}

export interface GraphOutputs {
  encoder: number[];
  unet?: number[];
  decoder: number[];
}

async function runOne(
  session: EngineSession,
  feeds: Record<string, EngineTensor>,
  output: string,
): Promise<number[]> {
  const out = await session.run(feeds);
  const values = Array.from(readFloat(out[output], output));
  for (const t of Object.values(out)) t.dispose?.();
  return values;
}

export async function runPackGraphs(
  pack: LoadedPack,
  tensors: TensorFactory,
  inputs: GraphInputs,
): Promise<GraphOutputs> {
  const io = pack.packInterface;
  const m = pack.manifest;
  const f32 = (x: { data: number[] }) => Float32Array.from(x.data);
  const encoder = await runOne(
    pack.sessions.vaeEncoder,
    { sample: floatTensor(tensors, io.encoder.type, f32(inputs.image), inputs.image.dims) },
    io.encoder.output,
  );
  let unet: number[] | undefined;
  if (m.unet && io.unet && pack.sessions.unet && pack.embeddings) {
    const t = m.unet.timestep;
    const timestep =
      io.unet.timestepType === 'int64'
        ? tensors.tensor('int64', BigInt64Array.of(BigInt(Math.round(t))), io.unet.timestepDims)
        : tensors.tensor('float32', Float32Array.of(t), io.unet.timestepDims);
    unet = await runOne(
      pack.sessions.unet,
      {
        sample: floatTensor(tensors, io.unet.type, f32(inputs.latent), inputs.latent.dims),
        timestep,
        encoder_hidden_states: floatTensor(
          tensors,
          io.unet.embeddingType,
          pack.embeddings.positive,
          pack.embeddings.shape,
        ),
      },
      'out_sample',
    );
  }
  const decoder = await runOne(
    pack.sessions.vaeDecoder,
    {
      latent_sample: floatTensor(tensors, io.decoder.type, f32(inputs.latent), inputs.latent.dims),
    },
    'sample',
  );
  return { encoder, unet, decoder };
}

/** max |a − b| / max |b|: the relative error of `a` against the reference `b`. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
