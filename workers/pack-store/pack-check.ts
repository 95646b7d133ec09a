/**
 * The install-time check of a pack's files beyond their hashes: each ONNX graph must parse, and
 * its inputs and outputs must fit the manifest (the engine's own checkPackInterface, fed with the
 * interfaces read from the files' headers instead of loaded sessions); the embeddings file must
 * hold the tensors the manifest names, in its shape. Problems come back as PackInstallErrors that
 * name the file.
 */
import {
  externalDataLocation,
  externalDataPaths,
  PACK_BACKENDS,
  selectPackGraphs,
  type GraphForm,
  type PackGraphSelection,
  type PackManifest,
} from '../../engine/latent/manifest.ts';
import { checkPackInterface, PackInterfaceError } from '../../engine/latent/pack-interface.ts';
import { readPackEmbeddings } from '../../engine/latent/pack-loader.ts';
import type { EngineSession } from '../../engine/session.ts';
import { OnnxParseError, readOnnxHeader, type OnnxHeader } from '../../engine/onnx/onnx-reader.ts';
import { PackInstallError } from './errors.ts';
import type { RandomAccessSource } from '../opfs/random-access.ts';

/** Reads one graph's header, turning parse failures into a PackInstallError for `path`. */
export async function readGraphHeader(
  source: RandomAccessSource,
  path: string,
): Promise<OnnxHeader> {
  try {
    return await readOnnxHeader(source, path);
  } catch (error) {
    if (error instanceof OnnxParseError)
      throw new PackInstallError('onnx-unparsable', error.message, path);
    throw error;
  }
}

/** A graph whose weights sit in external data must have those files listed in the manifest. */
export function checkExternalData(manifest: PackManifest, path: string, header: OnnxHeader): void {
  const listed = externalDataPaths(manifest, path).map((p) => externalDataLocation(path, p));
  const missing = header.externalData.filter((location) => !listed.includes(location));
  if (missing.length > 0) {
    throw new PackInstallError(
      'onnx-unsupported',
      `${path}: keeps weights in ${missing.join(', ')}, which the manifest does not list as its externalData.`,
      path,
    );
  }
}

/** Every set of graphs some backend would load: the standard paths and each variant. */
export function graphSelections(manifest: PackManifest): PackGraphSelection[] {
  const standardForm = (manifest.graphs?.form ?? 'plain') as GraphForm;
  const selections = [selectPackGraphs(manifest, '', standardForm)];
  for (const backend of PACK_BACKENDS) selections.push(selectPackGraphs(manifest, backend));
  const seen = new Set<string>();
  return selections.filter((s) => {
    const key = [s.vaeEncoder, s.unet, s.vaeDecoder].join('|');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A session stand-in that only carries an interface: checkPackInterface reads nothing else. */
function interfaceOnly(header: OnnxHeader): EngineSession {
  return {
    inputNames: header.inputs.map((i) => i.name),
    outputNames: header.outputs.map((o) => o.name),
    inputMetadata: header.inputs,
    outputMetadata: header.outputs,
    run: () => Promise.reject(new Error('an interface read from a file header cannot run')),
  };
}

/** Checks the graphs' interfaces (headers by pack path) against the manifest, for every variant. */
export function checkGraphHeaders(manifest: PackManifest, headers: Map<string, OnnxHeader>): void {
  for (const selection of graphSelections(manifest)) {
    const get = (path: string) => {
      const header = headers.get(path);
      if (!header) throw new PackInstallError('missing-file', `${path} is missing`, path);
      return interfaceOnly(header);
    };
    const fileOf: Record<string, string | undefined> = {
      vae_encoder: selection.vaeEncoder,
      unet: selection.unet,
      vae_decoder: selection.vaeDecoder,
    };
    try {
      checkPackInterface(
        {
          vaeEncoder: get(selection.vaeEncoder),
          unet: manifest.unet && selection.unet ? get(selection.unet) : undefined,
          vaeDecoder: get(selection.vaeDecoder),
        },
        manifest,
      );
    } catch (error) {
      if (!(error instanceof PackInterfaceError)) throw error;
      // Each problem starts with the component ('vae_encoder input sample ...'): name its file.
      const component = (p: string) => fileOf[p.split(' ')[0]];
      const file = component(error.problems[0] ?? '') ?? selection.vaeEncoder;
      const lines = error.problems.map((p) => (component(p) ? `${component(p)}: ${p}` : p));
      throw new PackInstallError(
        'interface-mismatch',
        `The pack's graphs do not fit its manifest: ${lines.join('; ')}`,
        file,
      );
    }
  }
}

/** Checks the embeddings file (small: read whole) against the manifest. */
export function checkEmbeddings(manifest: PackManifest, bytes: Uint8Array): void {
  if (!manifest.unet) return;
  const path = manifest.unet.embeddings.file;
  try {
    readPackEmbeddings(manifest, bytes);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PackInstallError(
      'embeddings',
      message.startsWith(path) ? message : `${path}: ${message}`,
      path,
    );
  }
}
