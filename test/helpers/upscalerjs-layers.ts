/**
 * The custom Keras layers of the UpscalerJS ESRGAN (RRDN) models, reimplemented as UpscalerJS 1.0
 * defines them (packages/shared/src/esrgan/esrgan.ts, the `setup` of the model definition):
 * - MultiplyBeta: tf.mul(input, 0.2); the constructor ignores the serialised config (beta).
 * - PixelShuffle{N}x: tf.depthToSpace(input, N, 'NHWC'); computeOutputShape keeps the input's
 *   height and width and reports 3 channels (as the original does).
 * Both take the first tensor when given an array.
 */
import * as tf from '@tensorflow/tfjs';

const BETA = 0.2;

const first = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor =>
  Array.isArray(inputs) ? inputs[0] : inputs;

class MultiplyBeta extends tf.layers.Layer {
  static className = 'MultiplyBeta';
  readonly beta = BETA;

  constructor() {
    super({});
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(first(inputs), this.beta);
  }
}

function pixelShuffle(scale: number) {
  return class PixelShuffle extends tf.layers.Layer {
    static className = `PixelShuffle${scale}x`;
    readonly scale = scale;

    constructor() {
      super({});
    }

    override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
      return [shape[0], shape[1], shape[2], 3];
    }

    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.depthToSpace(first(inputs) as tf.Tensor4D, this.scale, 'NHWC');
    }
  };
}

let registered = false;

/** Registers MultiplyBeta and PixelShuffle{2,3,4,8}x with tf.serialization (once). */
export function registerUpscalerLayers(): void {
  if (registered) return;
  registered = true;
  tf.serialization.registerClass(MultiplyBeta);
  for (const scale of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(scale));
}
