/**
 * Reads each pack graph's inputs and outputs from its session (names, dtypes, shapes) and checks
 * them against the manifest, so a pack whose graphs do not fit is rejected before any work, with
 * every mismatch named. The float types found (per graph input) are what the pipeline feeds.
 */
import type { EngineSession, TensorMetadata } from '../session.ts';
import type { PackManifest } from './manifest.ts';
import type { FloatType } from './tensors.ts';

export interface PackSessions {
  vaeEncoder: EngineSession;
  /** Absent for a VAE-only pack (manifest without `unet`). */
  unet?: EngineSession;
  vaeDecoder: EngineSession;
}

export type TimestepType = 'int64' | 'int32' | 'float32' | 'float16';

export interface PackInterface {
  encoder: { type: FloatType; output: 'latent_sample' | 'latent_parameters' };
  unet?: {
    type: FloatType;
    embeddingType: FloatType;
    timestepType: TimestepType;
    timestepDims: number[];
  };
  decoder: { type: FloatType };
}

export class PackInterfaceError extends Error {
  override name = 'PackInterfaceError';
  constructor(readonly problems: string[]) {
    super(`the pack's graphs do not fit its manifest: ${problems.join('; ')}`);
  }
}

function meta(
  list: readonly TensorMetadata[] | undefined,
  name: string,
): TensorMetadata | undefined {
  return list?.find((m) => m.name === name);
}

/**
 * Float types a graph input or output may have in a pack of this precision: fp32 packs take and
 * return float32; fp16 packs either float16 or float32 (fp16 weights and arithmetic behind Casts
 * at the boundaries, which keeps the pipeline's values exact in and out). Float16 I/O in an fp32
 * pack would hide fp16 arithmetic from the fp16 guard, so it is refused.
 */
export function allowedFloatTypes(precision: PackManifest['precision']): readonly FloatType[] {
  return precision === 'fp16' ? ['float16', 'float32'] : ['float32'];
}

export function checkPackInterface(sessions: PackSessions, m: PackManifest): PackInterface {
  const problems: string[] = [];
  const allowed = allowedFloatTypes(m.precision);
  // Without metadata: the pack's own precision.
  const assumed: FloatType = m.precision === 'fp16' ? 'float16' : 'float32';
  const C = m.vae.latentChannels;

  const floatType = (what: string, md: TensorMetadata | undefined): FloatType => {
    if (!md) return assumed;
    if (!(allowed as readonly string[]).includes(md.type))
      problems.push(
        `${what} is ${md.type}, the manifest's precision ${m.precision} needs ${allowed.join(' or ')}`,
      );
    return md.type === 'float16' ? 'float16' : 'float32';
  };
  const shapeCheck = (
    what: string,
    md: TensorMetadata | undefined,
    rank: number,
    fixed: Record<number, number>,
  ) => {
    const shape = md?.shape;
    if (!shape || shape.length === 0) return;
    if (shape.length !== rank) {
      problems.push(`${what} has rank ${shape.length} ([${shape.join(', ')}]), expected ${rank}`);
      return;
    }
    for (const [axis, size] of Object.entries(fixed)) {
      const d = shape[Number(axis)];
      if (typeof d === 'number' && d !== size) {
        problems.push(
          `${what} has size ${d} on axis ${axis} ([${shape.join(', ')}]), the manifest needs ${size}`,
        );
      }
    }
  };
  const expectNames = (
    what: string,
    names: readonly string[],
    expected: string[],
    kind: string,
  ) => {
    for (const n of expected)
      if (!names.includes(n))
        problems.push(`${what} has no ${kind} '${n}' (it has ${names.join(', ') || 'none'})`);
  };
  const noExtraInputs = (what: string, s: EngineSession, fed: string[]) => {
    for (const n of s.inputNames)
      if (!fed.includes(n)) problems.push(`${what} needs an input '${n}' that a pack cannot feed`);
  };

  // VAE encoder.
  const enc = sessions.vaeEncoder;
  expectNames('vae_encoder', enc.inputNames, ['sample'], 'input');
  noExtraInputs('vae_encoder', enc, ['sample']);
  const encIn = meta(enc.inputMetadata, 'sample');
  const encType = floatType('vae_encoder input sample', encIn);
  shapeCheck('vae_encoder input sample', encIn, 4, { 1: 3 });
  const outs = enc.outputNames;
  let encOutput: 'latent_sample' | 'latent_parameters' = m.vae.encoderOutput ?? 'latent_sample';
  if (!m.vae.encoderOutput) {
    if (outs.includes('latent_parameters')) encOutput = 'latent_parameters';
    else if (outs.includes('latent_sample')) encOutput = 'latent_sample';
  }
  if (!outs.includes(encOutput)) {
    problems.push(`vae_encoder has no output '${encOutput}' (it has ${outs.join(', ') || 'none'})`);
  } else {
    const md = meta(enc.outputMetadata, encOutput);
    floatType(`vae_encoder output ${encOutput}`, md);
    shapeCheck(`vae_encoder output ${encOutput}`, md, 4, {
      1: encOutput === 'latent_parameters' ? 2 * C : C,
    });
  }

  // UNet.
  let unet: PackInterface['unet'];
  if (m.unet) {
    const s = sessions.unet;
    if (!s) {
      problems.push('the manifest has a unet section but no unet session was given');
    } else {
      const inputs = ['sample', 'timestep', 'encoder_hidden_states'];
      expectNames('unet', s.inputNames, inputs, 'input');
      noExtraInputs('unet', s, inputs);
      expectNames('unet', s.outputNames, ['out_sample'], 'output');
      const sample = meta(s.inputMetadata, 'sample');
      const type = floatType('unet input sample', sample);
      shapeCheck('unet input sample', sample, 4, { 1: C });
      const ehs = meta(s.inputMetadata, 'encoder_hidden_states');
      const embeddingType = floatType('unet input encoder_hidden_states', ehs);
      const [, tokens, width] = m.unet.embeddings.shape;
      shapeCheck('unet input encoder_hidden_states', ehs, 3, { 1: tokens, 2: width });
      const out = meta(s.outputMetadata, 'out_sample');
      floatType('unet output out_sample', out);
      shapeCheck('unet output out_sample', out, 4, { 1: C });
      const ts = meta(s.inputMetadata, 'timestep');
      let timestepType: TimestepType = 'int64';
      if (ts) {
        if (['int64', 'int32', 'float32', 'float16'].includes(ts.type))
          timestepType = ts.type as TimestepType;
        else
          problems.push(
            `unet input timestep is ${ts.type}; int64, int32, float32 or float16 expected`,
          );
        if (timestepType.startsWith('int') && !Number.isInteger(m.unet.timestep)) {
          problems.push(
            `unet.timestep ${m.unet.timestep} is not an integer but the graph takes ${timestepType}`,
          );
        }
      }
      // A declared scalar and an undeclared shape both read as [] (a scalar feeds either); optimum
      // and diffusers exports declare [batch]. Without metadata, assume the latter.
      const tsShape = ts?.shape;
      let timestepDims = [1];
      if (tsShape && tsShape.length === 0) timestepDims = [];
      else if (tsShape && tsShape.length > 1) {
        problems.push(
          `unet input timestep has shape [${tsShape.join(', ')}], expected a scalar or [1]`,
        );
      }
      unet = { type, embeddingType, timestepType, timestepDims };
    }
  } else if (sessions.unet) {
    problems.push('a unet session was given but the manifest has no unet section');
  }

  // VAE decoder.
  const dec = sessions.vaeDecoder;
  expectNames('vae_decoder', dec.inputNames, ['latent_sample'], 'input');
  noExtraInputs('vae_decoder', dec, ['latent_sample']);
  expectNames('vae_decoder', dec.outputNames, ['sample'], 'output');
  const decIn = meta(dec.inputMetadata, 'latent_sample');
  const decType = floatType('vae_decoder input latent_sample', decIn);
  shapeCheck('vae_decoder input latent_sample', decIn, 4, { 1: C });
  const decOut = meta(dec.outputMetadata, 'sample');
  floatType('vae_decoder output sample', decOut);
  shapeCheck('vae_decoder output sample', decOut, 4, { 1: 3 });

  if (problems.length) throw new PackInterfaceError(problems);
  return { encoder: { type: encType, output: encOutput }, unet, decoder: { type: decType } };
}
