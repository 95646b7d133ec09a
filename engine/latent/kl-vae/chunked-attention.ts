/**
 * The segmented KL VAE's mid graph (engine/latent/kl-vae/segmented-decode.ts and
 * segmented-encode.ts), run untiled on the whole latent, in one of two forms:
 *
 * - whole: one session; its self-attention over the latent's N tokens holds the N × N scores and
 *   their softmax (for a 128² latent, 16384² float32 twice: 2 GiB), growing with the image's area
 *   squared;
 * - chunked (the builder's default, tools/builder/architectures/sd-vae/segmented.ts): `pre` runs
 *   up to the attention's q / k / v projections, `attention` runs over chunks of query rows
 *   (softmax(q·kᵀ)·v for n rows at a time: n × N scores, see attentionRows) whose results are
 *   concatenated, and `post` runs the rest. Softmax is row-wise, so each chunk's rows are exactly
 *   the whole attention's rows: the result equals the whole form's up to float rounding.
 */
import type { EngineSession, EngineTensor, TensorFactory } from '../../session.ts';
import { floatTensor, readFloat, type FloatType } from '../tensors.ts';

/** The mid graph split at its attention. */
export interface ChunkedMid {
  pre: EngineSession;
  attention: EngineSession;
  post: EngineSession;
}

/** A segmented mid graph in either form. */
export type KlMid = EngineSession | ChunkedMid;

/** Which attention a mid graph runs: whole-latent scores or chunks of query rows. */
export type KlAttention = 'whole' | 'chunked';

export function isChunkedMid(mid: KlMid): mid is ChunkedMid {
  return 'pre' in mid && 'attention' in mid && 'post' in mid;
}

export function midAttention(mid: KlMid): KlAttention {
  return isChunkedMid(mid) ? 'chunked' : 'whole';
}

/**
 * Bytes of one chunk's float32 score matrix (n × N) the default chunk size keeps under; the
 * softmax beside it doubles that.
 */
export const ATTENTION_SCORE_BYTES = 64 * 1024 ** 2;

/** Query rows per attention chunk for N tokens: `rows` where given, else scores ≤ the budget. */
export function attentionRows(tokens: number, rows?: number): number {
  const n = rows ?? Math.floor(ATTENTION_SCORE_BYTES / (4 * tokens));
  return Math.max(1, Math.min(tokens, Math.floor(n)));
}

/** Session runs one mid graph run makes on a latent of `tokens` pixels. */
export function midRunCount(mid: KlMid | undefined, tokens: number, rows?: number): number {
  if (!mid || !isChunkedMid(mid)) return 1;
  return 2 + Math.ceil(tokens / attentionRows(tokens, rows));
}

export interface MidRunOptions {
  tensors: TensorFactory;
  type?: FloatType;
  /** Query rows per attention chunk (default: attentionRows). */
  rows?: number;
  signal?: AbortSignal;
  onRun?: () => void;
}

/** Runs `session` and returns copies of the named outputs (disposing feeds and outputs). */
export async function runFor(
  session: EngineSession,
  feeds: Record<string, EngineTensor>,
  names: readonly string[],
): Promise<Float32Array[]> {
  let outputs: Record<string, EngineTensor>;
  try {
    outputs = await session.run(feeds);
  } finally {
    for (const t of Object.values(feeds)) t.dispose?.();
  }
  try {
    return names.map((n) => {
      const out = outputs[n];
      if (!out) throw new Error(`segmented VAE graph: no output '${n}'`);
      const data = readFloat(out, n);
      return data === out.data ? data.slice() : data;
    });
  } finally {
    for (const t of Object.values(outputs)) t.dispose?.();
  }
}

/**
 * Runs the mid graph on `data` [1, channels, height, width] fed as `input` and returns its
 * `output` (channels of its own, same height and width).
 */
export async function runMid(
  mid: KlMid,
  input: string,
  output: string,
  data: Float32Array,
  dims: readonly [number, number, number, number],
  o: MidRunOptions,
): Promise<Float32Array> {
  const type = o.type ?? 'float32';
  const feed = () => ({ [input]: floatTensor(o.tensors, type, data, dims) });
  if (!isChunkedMid(mid)) {
    const [out] = await runFor(mid, feed(), [output]);
    o.onRun?.();
    return out;
  }
  const [query, keyT, value, residual] = await runFor(mid.pre, feed(), [
    'query',
    'key_t',
    'value',
    'residual',
  ]);
  o.onRun?.();
  const tokens = dims[2] * dims[3];
  const C = query.length / tokens;
  if (!Number.isInteger(C) || keyT.length !== C * tokens || value.length !== C * tokens) {
    throw new Error(`mid attention: q/k/v sizes do not match ${tokens} tokens`);
  }
  const rows = attentionRows(tokens, o.rows);
  const attended = new Float32Array(tokens * C);
  for (let r0 = 0; r0 < tokens; r0 += rows) {
    o.signal?.throwIfAborted();
    const n = Math.min(rows, tokens - r0);
    const [chunk] = await runFor(
      mid.attention,
      {
        query: floatTensor(o.tensors, type, query.slice(r0 * C, (r0 + n) * C), [1, n, C]),
        key_t: floatTensor(o.tensors, type, keyT, [1, C, tokens]),
        value: floatTensor(o.tensors, type, value, [1, tokens, C]),
      },
      ['attention'],
    );
    o.onRun?.();
    if (chunk.length !== n * C) {
      throw new Error(`mid attention: ${chunk.length} values for ${n} rows of ${C}`);
    }
    attended.set(chunk, r0 * C);
  }
  o.signal?.throwIfAborted();
  const [out] = await runFor(
    mid.post,
    {
      attention: floatTensor(o.tensors, type, attended, [1, tokens, C]),
      residual: floatTensor(o.tensors, type, residual, [1, C, dims[2], dims[3]]),
    },
    [output],
  );
  o.onRun?.();
  return out;
}
