/**
 * The last steps every image-to-image converter shares (the TF.js layers one and the ncnn one):
 * clip the output to the model's range, name the graph's output, then apply the exact rewrites
 * (exact-rewrites.ts) and count what the rewritten graph holds. The receptive field is the one
 * the source graph has: the rewrites compute the same function.
 */
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { decode, encode, graphOf } from '../onnx/onnx-graph.ts';
import { applyExactRewrites } from './exact-rewrites.ts';
import { reachRadius, type Reach } from './receptive-field.ts';

export interface FinishOptions {
  /** Clip the output to this range; none when null. */
  clipOutput: readonly [number, number] | null;
  outputName?: string;
  /** Apply the exact rewrites (default true). */
  exactRewrites?: boolean;
}

export interface FinishedGraph {
  bytes: Uint8Array;
  scale: number;
  tileMargin: number;
  nodeCount: number;
  parameterCount: number;
  /** Rewrites applied per pass, or null when they were not run. */
  rewrites: Record<string, number> | null;
}

export function finishSrGraph(
  g: GraphBuilder,
  output: { name: string; reach: Reach },
  options: FinishOptions,
): FinishedGraph {
  let final = output.name;
  if (options.clipOutput) {
    const [lo, hi] = options.clipOutput;
    const min = g.constF32('clip_min', [lo], []);
    const max = g.constF32('clip_max', [hi], []);
    final = g.node('Clip', [final, min, max], {}, { name: 'clip_to_range' });
  }
  g.output(final, options.outputName ?? 'output', 'float32', [1, 3, 'out_height', 'out_width']);

  const plain = {
    bytes: g.toBytes(),
    scale: output.reach.scale,
    tileMargin: reachRadius(output.reach),
    nodeCount: g.nodeCount,
    parameterCount: g.parameterCount,
  };
  if (options.exactRewrites === false) return { ...plain, rewrites: null };
  const model = decode(plain.bytes);
  const { applied } = applyExactRewrites(model);
  const { node, initializer } = graphOf(model);
  return {
    ...plain,
    bytes: encode(model),
    nodeCount: node.length,
    parameterCount: initializer.reduce(
      (n, t) => n + (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1),
      0,
    ),
    rewrites: applied,
  };
}
