/**
 * The UNet2DConditionModel as an ONNX graph with the pack interface:
 *   sample [batch, C_in, h, w], timestep int64 [1], encoder_hidden_states [batch, tokens, D]
 *   → out_sample [batch, C_out, h, w]   (h and w multiples of 2^(blocks − 1)).
 * The timestep embedding is computed in the graph (float32 sinusoids, as diffusers does).
 */
import { checkWeights, type WeightSource } from '../../weight-source.ts';
import { downsample, resnet, transformer, upsample } from './blocks.ts';
import { unetTensorSpecs, type UnetBlockPlan, type UnetPlan } from './plan.ts';
import { SdGraph, type SdBuildOptions } from './sd-graph.ts';

export type { SdBuildOptions } from './sd-graph.ts';

/** Sinusoid frequencies of diffusers' get_timestep_embedding (max_period 10000). */
export function timestepFrequencies(dim: number, freqShift: number): number[] {
  const half = Math.floor(dim / 2);
  return Array.from({ length: half }, (_, i) =>
    Math.exp((-Math.log(10000) * i) / (half - freqShift)),
  );
}

function timeEmbedding(sd: SdGraph, plan: UnetPlan, timestep: string): string {
  const c = plan.config;
  const dim = c.blockOutChannels[0];
  if (dim % 2 !== 0) throw new Error(`unet: block_out_channels[0] = ${dim} must be even`);
  const g = sd.g;
  const t = g.node('Unsqueeze', [g.node('Cast', [timestep], { to: 1 }), g.constI64('t_axes', [1])]);
  const freqs = g.constF32('time_proj.frequencies', timestepFrequencies(dim, c.freqShift), [
    1,
    dim / 2,
  ]);
  const args = g.node('Mul', [t, freqs]);
  const sin = g.node('Sin', [args]);
  const cos = g.node('Cos', [args]);
  let emb = g.node('Concat', c.flipSinToCos ? [cos, sin] : [sin, cos], { axis: 1 });
  if (sd.precision === 'fp16') emb = sd.cast(emb, 'graph');
  const h = sd.silu(sd.linear('time_embedding.linear_1', emb));
  return sd.linear('time_embedding.linear_2', h);
}

/** Builds the UNet graph (weights stay lazy until the graph is written). */
export function buildUnetGraph(
  plan: UnetPlan,
  weights: WeightSource,
  opts: SdBuildOptions,
): SdGraph {
  const specs = unetTensorSpecs(plan);
  checkWeights(weights, specs);
  const c = plan.config;
  const crossDim = c.crossAttentionDim[0];
  if (c.crossAttentionDim.some((d) => d !== crossDim)) {
    throw new Error(
      'unet: per-block cross_attention_dim values must all be equal (one encoder_hidden_states input)',
    );
  }
  const sd = new SdGraph('unet', weights, opts);
  const g = sd.g;
  const sample = sd.floatInput('sample', ['batch', c.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', [1]);
  const context = sd.floatInput('encoder_hidden_states', ['batch', 'sequence', crossDim]);

  const tembAct = sd.silu(timeEmbedding(sd, plan, timestep));
  let h = sd.conv('conv_in', sample);
  const skips = [h];
  const runBlock = (b: UnetBlockPlan, skipped?: string[]) => {
    b.resnets.forEach((r, j) => {
      if (skipped) h = sd.concat([h, skipped.pop()!], 1);
      h = resnet(sd, r, h, tembAct);
      if (b.attentions[j]) h = transformer(sd, b.attentions[j], h, context);
      if (!skipped) skips.push(h);
    });
  };
  for (const b of plan.down) {
    runBlock(b);
    if (b.sampler) {
      const p = c.downsamplePadding;
      h = downsample(sd, b.sampler, h, [p, p, p, p]);
      skips.push(h);
    }
  }
  h = resnet(sd, plan.mid.resnets[0], h, tembAct);
  plan.mid.attentions.forEach((a, i) => {
    h = transformer(sd, a, h, context);
    h = resnet(sd, plan.mid.resnets[i + 1], h, tembAct);
  });
  for (const b of plan.up) {
    runBlock(b, skips);
    if (b.sampler) h = upsample(sd, b.sampler, h);
  }
  if (skips.length) throw new Error(`unet: ${skips.length} skip connections left over`);
  h = sd.silu(sd.groupNorm('conv_norm_out', h, c.normNumGroups, c.normEps));
  h = sd.conv('conv_out', h);
  sd.floatOutput(h, 'out_sample', ['batch', c.outChannels, 'height', 'width']);

  const unused = sd.unused(specs);
  if (unused.length) throw new Error(`unet builder bug: tensors never used: ${unused.join(', ')}`);
  return sd;
}
