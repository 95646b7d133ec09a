/**
 * Older diffusers AutoencoderKL checkpoints (saved before diffusers 0.14, e.g. the SD 2.1 and
 * sd-vae-ft-mse uploads) name the mid-block attention's projections `query`, `key`, `value` and
 * `proj_attn`; diffusers renames them on load to `to_q`, `to_k`, `to_v` and `to_out.0`, and
 * squeezes 1×1-conv-shaped [C, C, 1, 1] weights to [C, C]. This view does the same.
 */
import type { TensorInfo, WeightSource } from '../../weight-source.ts';

const RENAMES: [string, string][] = [
  ['query', 'to_q'],
  ['key', 'to_k'],
  ['value', 'to_v'],
  ['proj_attn', 'to_out.0'],
];

const LEGACY =
  /^((?:encoder|decoder)\.mid_block\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/;

/** `source` with legacy attention names mapped to the current ones (unchanged if it has none). */
export function withCurrentVaeNames(source: WeightSource): WeightSource {
  const toNew = new Map<string, string>();
  for (const t of source.list()) {
    const m = LEGACY.exec(t.name);
    if (m) toNew.set(t.name, `${m[1]}.${RENAMES.find(([old]) => old === m[2])![1]}.${m[3]}`);
  }
  if (toNew.size === 0) return source;
  const toOld = new Map([...toNew].map(([o, n]) => [n, o]));
  const orig = (name: string) => toOld.get(name) ?? name;
  const squeeze = (t: TensorInfo, name: string): TensorInfo => {
    const legacy = toOld.has(name);
    const shape =
      legacy && t.shape.length === 4 && t.shape[2] === 1 && t.shape[3] === 1
        ? t.shape.slice(0, 2)
        : t.shape;
    return { ...t, name, shape };
  };
  return {
    label: source.label,
    list: () => source.list().map((t) => squeeze(t, toNew.get(t.name) ?? t.name)),
    info: (name) => {
      const t = source.info(orig(name));
      return t && squeeze(t, name);
    },
    f32: (name) => source.f32(orig(name)),
    f16: (name) => source.f16(orig(name)),
    close: () => source.close(),
  };
}
