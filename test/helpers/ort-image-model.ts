/**
 * Runs an image-to-image ONNX model (input `input` [1,3,H,W], output `output`) on
 * onnxruntime-node's CPU provider, for tests.
 */
import * as ort from 'onnxruntime-node';
import type { PlanarImage } from './test-image.ts';

export async function createImageSession(
  model: string | Uint8Array,
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

export async function runImageSession(
  session: ort.InferenceSession,
  image: PlanarImage,
): Promise<PlanarImage> {
  const { channels, height, width, data } = image;
  const input = new ort.Tensor('float32', data, [1, channels, height, width]);
  const { output } = await session.run({ input });
  if (!output)
    throw new Error(`model has no output named 'output' (has ${session.outputNames.join(', ')})`);
  if (output.type !== 'float32' || output.dims.length !== 4) {
    throw new Error(`output: ${output.type} [${output.dims.join(', ')}]`);
  }
  const [, c, h, w] = output.dims;
  const result = {
    channels: c,
    height: h,
    width: w,
    data: Float32Array.from(output.data as Float32Array),
  };
  input.dispose();
  output.dispose();
  return result;
}

/** Creates a session, runs it once and releases it. */
export async function runImageModel(
  model: string | Uint8Array,
  image: PlanarImage,
): Promise<PlanarImage> {
  const session = await createImageSession(model);
  try {
    return await runImageSession(session, image);
  } finally {
    await session.release();
  }
}
