/**
 * Loading a pack from anywhere its files can be read (a URL prefix in the app, a folder in Node):
 * manifest validation, byte-size and sha256 checks, sessions, embeddings, and the graph-interface
 * check. Returns everything runPack needs.
 */
import type { EngineRuntime, ExternalDataFile } from '../session.ts';
import { assertPackBackend } from './fp16-guard.ts';
import {
  externalDataLocation,
  externalDataPaths,
  packFilePaths,
  parsePackManifest,
  selectPackGraphs,
  type GraphForm,
  type PackGraphSelection,
  type PackManifest,
} from './manifest.ts';
import { checkPackInterface, type PackInterface, type PackSessions } from './pack-interface.ts';
import type { SegmentedDecoderSessions } from './kl-vae/segmented-decode.ts';
import type { SegmentedEncoderSessions } from './kl-vae/segmented-encode.ts';
import type { PackEmbeddings } from './pipeline.ts';
import { parseSafetensors, tensorToFloat32 } from './safetensors.ts';

/** Reads files of a pack by their path relative to manifest.json. */
export interface PackSource {
  /** For messages: the URL prefix or folder. */
  readonly label: string;
  read(path: string): Promise<Uint8Array>;
}

export class PackFileError extends Error {
  override name = 'PackFileError';
}

/** A pack served over HTTP(S): `base` is the URL of its folder. */
export function urlPackSource(base: string, fetchFn: typeof fetch = fetch): PackSource {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return {
    label: prefix,
    async read(path: string): Promise<Uint8Array> {
      const url = new URL(path, prefix).href;
      const res = await fetchFn(url);
      if (!res.ok) throw new PackFileError(`${url}: HTTP ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

export async function readPackManifest(source: PackSource): Promise<PackManifest> {
  const bytes = await source.read('manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new PackFileError(`${source.label}manifest.json is not JSON: ${(e as Error).message}`);
  }
  return parsePackManifest(json, `${source.label}manifest.json`);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks a file's size and hash against the manifest. */
export async function verifyPackFile(
  m: PackManifest,
  path: string,
  bytes: Uint8Array,
  label = '',
): Promise<void> {
  const entry = m.files[path];
  if (!entry) throw new PackFileError(`${label}${path} is not listed in the manifest's files`);
  if (bytes.byteLength !== entry.bytes) {
    throw new PackFileError(
      `${label}${path}: ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`,
    );
  }
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256) {
    throw new PackFileError(
      `${label}${path}: sha256 ${hash} does not match the manifest's ${entry.sha256}`,
    );
  }
}

/** The embeddings named in the manifest, from the pack's .safetensors bytes. */
export function readPackEmbeddings(m: PackManifest, bytes: Uint8Array): PackEmbeddings {
  const spec = m.unet!.embeddings;
  const file = parseSafetensors(bytes, spec.file);
  const [b, n, d] = spec.shape;
  const get = (name: string) => {
    const t = file.tensors.get(name);
    if (!t)
      throw new PackFileError(
        `${spec.file}: no tensor '${name}' (it has ${[...file.tensors.keys()].join(', ')})`,
      );
    if (t.shape.join() !== [b, n, d].join()) {
      throw new PackFileError(
        `${spec.file}: tensor '${name}' is [${t.shape.join(', ')}], the manifest says [${b}, ${n}, ${d}]`,
      );
    }
    return tensorToFloat32(t);
  };
  return {
    positive: get(spec.positive),
    negative: spec.negative ? get(spec.negative) : undefined,
    shape: [b, n, d],
  };
}

export interface LoadedPack {
  manifest: PackManifest;
  /** With the segmented decoder's and encoder's sessions where the pack has them (runPack uses them). */
  sessions: PackSessions & SegmentedDecoderSessions & SegmentedEncoderSessions;
  embeddings?: PackEmbeddings;
  packInterface: PackInterface;
  /** The graphs loaded (their form and pack paths): the variant for the runtime's backend. */
  graphs: PackGraphSelection;
  release(): Promise<void>;
}

export interface LoadPackOptions {
  /** Check sizes and sha256 (default true). */
  verify?: boolean;
  /** Whether the WebGPU adapter has shader-f16 (needed for fp16 packs on a 'webgpu' runtime). */
  shaderF16?: boolean;
  /** Files read so far and in total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Which graphs: 'auto' (default) takes the pack's variant for the runtime's backend (e.g. fused
   * graphs on WebGPU, plain ones on WASM) or its standard graphs; 'plain' / 'fused' force a form.
   */
  form?: GraphForm | 'auto';
}

export async function loadPack(
  source: PackSource,
  runtime: EngineRuntime,
  opts: LoadPackOptions = {},
): Promise<LoadedPack> {
  const manifest = await readPackManifest(source);
  assertPackBackend(manifest.precision, runtime.backend, opts.shaderF16);
  const graphs = selectPackGraphs(manifest, runtime.backend, opts.form ?? 'auto');
  const paths = packFilePaths(manifest, graphs);
  const created: { release?(): Promise<void> }[] = [];
  const release = async () => {
    await Promise.all(created.map((s) => s.release?.()));
  };
  try {
    const sessions: Partial<PackSessions & SegmentedDecoderSessions & SegmentedEncoderSessions> =
      {};
    let embeddings: PackEmbeddings | undefined;
    // External data read (and checked) for the graph that comes next; released once it is loaded.
    let externalData: ExternalDataFile[] = [];
    let done = 0;
    const segDec = manifest.vae.segmentedDecoder;
    const segEnc = manifest.vae.segmentedEncoder;
    for (const path of paths) {
      const bytes = await source.read(path);
      if (opts.verify !== false) await verifyPackFile(manifest, path, bytes, source.label);
      if (path.endsWith('.onnx')) {
        const wanted = externalDataPaths(manifest, path).map((p) => externalDataLocation(path, p));
        const data = externalData.filter((f) => wanted.includes(f.path));
        const session = await runtime.createSession(
          bytes,
          data.length ? { externalData: data } : undefined,
        );
        externalData = [];
        created.push(session);
        if (path === graphs.vaeEncoder) sessions.vaeEncoder = session;
        else if (path === graphs.unet) sessions.unet = session;
        else if (path === segDec?.mid) sessions.vaeDecoderMid = session;
        else if (path === segDec?.chunkedMid?.pre) sessions.vaeDecoderMidPre = session;
        else if (path === segDec?.chunkedMid?.attention) sessions.vaeDecoderMidAttention = session;
        else if (path === segDec?.chunkedMid?.post) sessions.vaeDecoderMidPost = session;
        else if (path === segDec?.up) sessions.vaeDecoderUp = session;
        else if (path === segEnc?.down) sessions.vaeEncoderDown = session;
        else if (path === segEnc?.mid) sessions.vaeEncoderMid = session;
        else if (path === segEnc?.chunkedMid?.pre) sessions.vaeEncoderMidPre = session;
        else if (path === segEnc?.chunkedMid?.attention) sessions.vaeEncoderMidAttention = session;
        else if (path === segEnc?.chunkedMid?.post) sessions.vaeEncoderMidPost = session;
        else sessions.vaeDecoder = session;
      } else if (manifest.unet && path === manifest.unet.embeddings.file) {
        embeddings = readPackEmbeddings(manifest, bytes);
      } else {
        // External data of the next graph (packFilePaths puts it just before its graph).
        const graph = paths.slice(paths.indexOf(path)).find((p) => p.endsWith('.onnx'))!;
        externalData.push({ path: externalDataLocation(graph, path), data: bytes });
      }
      opts.onProgress?.(++done, paths.length);
    }
    const full = sessions as PackSessions & SegmentedDecoderSessions & SegmentedEncoderSessions;
    const packInterface = checkPackInterface(full, manifest);
    return { manifest, sessions: full, embeddings, packInterface, graphs, release };
  } catch (e) {
    await release();
    throw e;
  }
}
