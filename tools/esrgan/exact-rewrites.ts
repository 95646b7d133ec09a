/**
 * Graph rewrites that change no result beyond float rounding (the parity test against TF.js still
 * holds). The converter (convert-layers-model.ts) applies them to every built-in ESRGAN graph: they
 * cut work and memory traffic in onnxruntime-web, and the hand-written kernels cannot run a Resize.
 *
 * - foldConvScale: Conv -> Mul(scalar constant) becomes one Conv with scaled weights and bias
 *   (RRDN's 0.2 residual scaling after each dense block's last conv).
 * - foldUpsampleConv: Resize(nearest, integer factor s) -> Conv(k x k) becomes a Conv at the low
 *   resolution with s*s*Cout outputs, then DepthToSpace(s, DCR). The upsampled tensor (s*s times the
 *   pixels, e.g. 48 x 1024 x 1024 floats for a 256^2 RDN tile at x4) is never materialised, and the
 *   last conv becomes a well-shaped GEMM instead of one with 3 output rows.
 */
import {
  attr,
  consumers,
  dropUnusedInitializers,
  floatInitializer,
  freshName,
  graphOf,
  isGraphOutput,
  plainConv,
  producer,
  removeNodes,
  setFloatInitializer,
  setIntsAttr,
  type Model,
  type NodeProto,
} from '../onnx/onnx-graph.ts';

export interface RewriteReport {
  /** Pass name -> how many times it applied. */
  applied: Record<string, number>;
}

/** A scalar float constant held in an initializer, or null. */
function scalarConstant(model: Model, name: string): number | null {
  const t = floatInitializer(model, name);
  if (!t || t.data.length !== 1) return null;
  return t.data[0];
}

/** Conv -> Mul(c) => Conv with weights and bias times c. Returns how many were folded. */
export function foldConvScale(model: Model): number {
  const g = graphOf(model);
  const dead = new Set<NodeProto>();
  let folded = 0;
  for (const mul of g.node) {
    if (mul.opType !== 'Mul') continue;
    const [a, b] = mul.input ?? [];
    const conv = producer(model, a);
    const c = scalarConstant(model, b);
    if (!conv || conv.opType !== 'Conv' || c === null) continue;
    const convOut = conv.output?.[0] ?? '';
    if (consumers(model, convOut).length !== 1 || isGraphOutput(model, convOut)) continue;
    const [, wName, bName] = conv.input ?? [];
    const w = floatInitializer(model, wName);
    if (!w || consumers(model, wName).length !== 1) continue;
    const bias = bName ? floatInitializer(model, bName) : undefined;
    if (bName && (!bias || consumers(model, bName).length !== 1)) continue;
    setFloatInitializer(
      model,
      wName,
      w.dims,
      w.data.map((v) => v * c),
    );
    if (bias && bName)
      setFloatInitializer(
        model,
        bName,
        bias.dims,
        bias.data.map((v) => v * c),
      );
    const mulOut = mul.output?.[0] ?? '';
    conv.output = [mulOut];
    dead.add(mul);
    folded++;
  }
  removeNodes(model, dead);
  dropUnusedInitializers(model);
  return folded;
}

/** Integer spatial factor of a nearest Resize that maps output pixel Q to input floor(Q / s), or null. */
function nearestFactor(model: Model, resize: NodeProto): number | null {
  if (resize.opType !== 'Resize') return null;
  if ((attr(resize, 'mode') ?? 'nearest') !== 'nearest') return null;
  const ctm = attr(resize, 'coordinate_transformation_mode') ?? 'half_pixel';
  const rounding = attr(resize, 'nearest_mode') ?? 'round_prefer_floor';
  if (ctm !== 'asymmetric' || rounding !== 'floor') return null;
  const [, roi, scalesName, sizes] = resize.input ?? [];
  if (sizes || (roi && floatInitializer(model, roi)?.data.length)) return null;
  const scales = scalesName ? floatInitializer(model, scalesName) : undefined;
  if (!scales || scales.data.length !== 4) return null;
  const [n, c, sh, sw] = scales.data;
  if (n !== 1 || c !== 1 || sh !== sw || !Number.isInteger(sh) || sh < 2) return null;
  return sh;
}

/**
 * Resize(nearest, x s) -> Conv => Conv' (at the input resolution) -> DepthToSpace(s, DCR).
 *
 * High-res output pixel Y = s*h + i reads high-res inputs Y + d (d in [-p, k-1-p]), i.e. low-res
 * row h + floor((i + d) / s). So W'[(i*s + j)*Cout + o, ci, oy + P, ox + P] accumulates
 * W[o, ci, dy + p, dx + p] with oy = floor((i + dy - p) / s), and zero padding matches exactly.
 */
export function foldUpsampleConv(model: Model): number {
  const g = graphOf(model);
  let folded = 0;
  for (const resize of [...g.node]) {
    const s = nearestFactor(model, resize);
    if (s === null) continue;
    const up = resize.output?.[0] ?? '';
    const users = consumers(model, up);
    if (users.length !== 1 || isGraphOutput(model, up)) continue;
    const conv = users[0];
    const [x, wName, bName] = conv.input ?? [];
    if (x !== up) continue;
    const w = floatInitializer(model, wName);
    if (!w) continue;
    const shape = plainConv(conv, w.dims);
    if (!shape) continue;
    const [co, ci, kh, kw] = w.dims;
    const [ph, pw] = shape.pad;
    const lo = (i: number, d: number, p: number) => Math.floor((i + d - p) / s);
    // Low-res reach on each side (the new kernel is symmetric: pad P = max reach).
    const reachH = Math.max(-lo(0, 0, ph), lo(s - 1, kh - 1, ph));
    const reachW = Math.max(-lo(0, 0, pw), lo(s - 1, kw - 1, pw));
    const KH = 2 * reachH + 1;
    const KW = 2 * reachW + 1;
    const out = new Float32Array(s * s * co * ci * KH * KW);
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        for (let o = 0; o < co; o++) {
          const oc = (i * s + j) * co + o;
          for (let c = 0; c < ci; c++) {
            for (let dy = 0; dy < kh; dy++) {
              const oy = lo(i, dy, ph) + reachH;
              for (let dx = 0; dx < kw; dx++) {
                const ox = lo(j, dx, pw) + reachW;
                out[((oc * ci + c) * KH + oy) * KW + ox] +=
                  w.data[((o * ci + c) * kh + dy) * kw + dx];
              }
            }
          }
        }
      }
    }
    const newW = freshName(model, `${wName}_lowres`);
    setFloatInitializer(model, newW, [s * s * co, ci, KH, KW], out);
    const inputs = [resize.input?.[0] ?? '', newW];
    if (bName) {
      const bias = floatInitializer(model, bName);
      if (!bias) continue;
      const tiled = new Float32Array(s * s * co);
      for (let k = 0; k < s * s; k++) tiled.set(bias.data, k * co);
      const newB = freshName(model, `${bName}_lowres`);
      setFloatInitializer(model, newB, [s * s * co], tiled);
      inputs.push(newB);
    }
    const convOut = conv.output?.[0] ?? '';
    const lowOut = freshName(model, `${convOut}_phases`);
    conv.input = inputs;
    conv.output = [lowOut];
    setIntsAttr(conv, 'kernel_shape', [KH, KW]);
    setIntsAttr(conv, 'pads', [reachH, reachW, reachH, reachW]);
    const d2s: NodeProto = {
      opType: 'DepthToSpace',
      name: freshName(model, `${conv.name ?? 'conv'}_depth_to_space`),
      input: [lowOut],
      output: [convOut],
      domain: '',
      attribute: [
        { name: 'blocksize', type: 2, i: s },
        { name: 'mode', type: 3, s: new TextEncoder().encode('DCR') },
      ],
    };
    const nodes = graphOf(model).node;
    nodes.splice(nodes.indexOf(conv) + 1, 0, d2s);
    removeNodes(model, new Set([resize]));
    folded++;
  }
  dropUnusedInitializers(model);
  return folded;
}

export type ExactPass = 'foldConvScale' | 'foldUpsampleConv';

export const EXACT_PASSES: Record<ExactPass, (model: Model) => number> = {
  foldConvScale,
  foldUpsampleConv,
};

/** Applies the chosen passes in order (all by default), mutating `model`. */
export function applyExactRewrites(
  model: Model,
  passes: ExactPass[] = Object.keys(EXACT_PASSES) as ExactPass[],
): RewriteReport {
  const applied: Record<string, number> = {};
  for (const pass of passes) applied[pass] = EXACT_PASSES[pass](model);
  return { applied };
}
