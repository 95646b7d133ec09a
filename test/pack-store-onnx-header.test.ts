/**
 * The install-time ONNX check: the interface read from a file's header (weights skipped) must be
 * what onnxruntime reports for the loaded session, and anything that is not a well-formed model
 * must be rejected, naming the file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import { GraphBuilder } from '../tools/onnx/graph-builder.ts';
import { writeModelFile } from '../tools/onnx/model-writer.ts';
import { PACK_FILES } from '../engine/latent/manifest.ts';
import { PackInstallError } from '../workers/pack-store/errors.ts';
import { OnnxParseError, readOnnxHeader } from '../engine/onnx/onnx-reader.ts';
import {
  checkExternalData,
  checkGraphHeaders,
  readGraphHeader,
} from '../workers/pack-store/pack-check.ts';
import { bytesSource, type RandomAccessSource } from '../workers/opfs/random-access.ts';
import { repoRoot } from './helpers/shared.ts';

const { onnx } = onnxProto;

/** Counts the bytes actually read, to show the weights are skipped. */
function countingSource(bytes: Uint8Array): RandomAccessSource & { bytesRead: number } {
  const inner = bytesSource(bytes);
  const source = {
    size: inner.size,
    bytesRead: 0,
    async read(offset: number, length: number) {
      const out = await inner.read(offset, length);
      source.bytesRead += out.byteLength;
      return out;
    },
  };
  return source;
}

async function ortInterface(bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes);
  const pick = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
    list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : m));
  const result = { inputs: pick(session.inputMetadata), outputs: pick(session.outputMetadata) };
  await session.release();
  return result;
}

const pack = tinyGendrPack();

describe('ONNX header reader', () => {
  const builtin = path.join(repoRoot, 'public/models/esrgan-medium-x4/model.onnx');

  it.skipIf(!fs.existsSync(builtin))(
    'reads the same interface as onnxruntime for a built-in model',
    async () => {
      const bytes = new Uint8Array(fs.readFileSync(builtin));
      const header = await readOnnxHeader(bytesSource(bytes), 'esrgan-medium-x4');
      const expected = await ortInterface(bytes);
      expect({ inputs: header.inputs, outputs: header.outputs }).toEqual(expected);
      expect(header.irVersion).toBeGreaterThan(0);
      expect(header.opsets['']).toBeGreaterThan(0);
    },
  );

  it('reads the interfaces of a pack’s three graphs, skipping the weights', async () => {
    for (const file of [PACK_FILES.vaeEncoder, PACK_FILES.unet, PACK_FILES.vaeDecoder]) {
      const bytes = pack.files[file];
      const source = countingSource(bytes);
      const header = await readOnnxHeader(source, file);
      expect({ inputs: header.inputs, outputs: header.outputs }).toEqual(await ortInterface(bytes));
      expect(header.initializerCount).toBeGreaterThan(0);
      expect(header.externalData).toEqual([]);
    }
  });

  it('reads far less than the file when the weights are big', async () => {
    const g = new GraphBuilder('big');
    const x = g.input('x', 'float32', [1, 'n']);
    const w = g.constF32('w', new Float32Array(4 * 1024 * 1024), [1, 4 * 1024 * 1024]);
    g.output(g.node('Add', [x, w]), 'y', 'float32', [1, 4 * 1024 * 1024]);
    const bytes = g.toBytes();
    const source = countingSource(bytes);
    const header = await readOnnxHeader(source, 'big.onnx');
    expect(header.inputs).toEqual([{ name: 'x', type: 'float32', shape: [1, 'n'] }]);
    expect(bytes.byteLength).toBeGreaterThan(16 * 1024 * 1024);
    expect(source.bytesRead).toBeLessThan(256 * 1024);
  });

  it('leaves initializers listed as graph inputs out of the inputs, as onnxruntime does', async () => {
    const g = new GraphBuilder('initializer-as-input');
    const x = g.input('x', 'float32', [1, 4]);
    const w = g.constF32('w', [1, 2, 3, 4], [1, 4]);
    g.output(g.node('Add', [x, w]), 'y', 'float32', [1, 4]);
    const model = g.toModelProto();
    // Old exporters (IR < 4) list every initializer among the graph inputs too.
    model.graph!.input!.push({ ...model.graph!.input![0], name: w });
    const bytes = onnx.ModelProto.encode(model).finish();
    const header = await readOnnxHeader(bytesSource(bytes), 'm.onnx');
    expect(header.inputs.map((i) => i.name)).toEqual(['x']);
    expect(header.inputs.map((i) => i.name)).toEqual(
      (await ortInterface(bytes)).inputs.map((i) => i.name),
    );
  });

  it('rejects files that are not ONNX models, saying which file', async () => {
    const real = pack.files[PACK_FILES.vaeDecoder];
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['JSON', new TextEncoder().encode('{"not": "a model"}')],
      ['truncated', real.subarray(0, Math.floor(real.byteLength * 0.6))],
      ['random', Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)],
      ['a PNG', new Uint8Array(fs.readFileSync(path.join(repoRoot, 'public/favicon.svg')))],
    ];
    for (const [what, bytes] of cases) {
      const error = await readOnnxHeader(bytesSource(bytes), 'vae_decoder/model.onnx').catch(
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(OnnxParseError);
      expect((error as Error).message, what).toMatch(
        /^vae_decoder\/model\.onnx is not a valid ONNX model: /,
      );
      // onnxruntime agrees these are not models.
      await expect(ort.InferenceSession.create(bytes), what).rejects.toThrow();
    }
  });

  it('maps a parse failure to an install error naming the file', async () => {
    const error = await readGraphHeader(
      bytesSource(new Uint8Array([8, 1, 0xff])),
      'unet/model.onnx',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackInstallError);
    expect(error).toMatchObject({ code: 'onnx-unparsable', file: 'unet/model.onnx' });
  });
});

describe('external data', () => {
  it('names the external-data file, and a graph is accepted only when the manifest lists it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-extdata-'));
    try {
      const g = new GraphBuilder('external');
      const x = g.input('x', 'float32', [1, 4096]);
      const w = g.constF32('w', new Float32Array(4096).fill(0.5), [1, 4096]);
      g.output(g.node('Add', [x, w]), 'y', 'float32', [1, 4096]);
      const file = path.join(dir, 'unet/model.onnx');
      writeModelFile(g, file, { externalData: 'always' });
      const bytes = new Uint8Array(fs.readFileSync(file));
      const header = await readOnnxHeader(bytesSource(bytes), 'unet/model.onnx');
      expect(header.externalData).toEqual(['model.onnx_data']);

      const base = manifestFor(pack);
      expect(() => checkExternalData(base, 'unet/model.onnx', header)).toThrow(
        /unet\/model\.onnx: keeps weights in model\.onnx_data, which the manifest does not list/,
      );
      const listed = {
        ...base,
        files: {
          ...base.files,
          'unet/model.onnx': {
            ...base.files['unet/model.onnx'],
            externalData: ['unet/model.onnx_data'],
          },
          'unet/model.onnx_data': { bytes: 1, sha256: '0'.repeat(64) },
        },
      };
      expect(() => checkExternalData(listed, 'unet/model.onnx', header)).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pack interface from headers', () => {
  async function headersOf(files: Record<string, Uint8Array>) {
    const headers = new Map();
    for (const file of [PACK_FILES.vaeEncoder, PACK_FILES.unet, PACK_FILES.vaeDecoder])
      headers.set(file, await readGraphHeader(bytesSource(files[file]), file));
    return headers;
  }

  it('accepts a pack whose graphs fit its manifest', async () => {
    expect(() => checkGraphHeaders(manifestFor(pack), new Map())).toThrow(/is missing/);
    const headers = await headersOf(pack.files);
    expect(() => checkGraphHeaders(manifestFor(pack), headers)).not.toThrow();
  });

  it('rejects graphs whose shapes do not fit, naming the file and the input', async () => {
    const manifest = manifestFor({
      ...pack,
      manifest: { ...pack.manifest, vae: { ...pack.manifest.vae, latentChannels: 4 } },
    });
    const error = (() => {
      try {
        checkGraphHeaders(manifest, new Map());
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PackInstallError);
    const headers = await headersOf(pack.files);
    let caught: unknown;
    try {
      checkGraphHeaders(manifest, headers);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PackInstallError);
    expect(caught).toMatchObject({ code: 'interface-mismatch', file: 'vae_encoder/model.onnx' });
    expect((caught as Error).message).toMatch(
      /vae_encoder\/model\.onnx: vae_encoder output latent_parameters has size 32 on axis 1/,
    );
    expect((caught as Error).message).toMatch(/unet\/model\.onnx: unet input sample has size 16/);
  });

  it('rejects a graph with the wrong input names', async () => {
    // The decoder where the encoder should be: its input is latent_sample, not sample.
    const swapped = { ...pack.files, [PACK_FILES.vaeEncoder]: pack.files[PACK_FILES.vaeDecoder] };
    let caught: unknown;
    try {
      checkGraphHeaders(manifestFor(pack), await headersOf(swapped));
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'interface-mismatch', file: 'vae_encoder/model.onnx' });
    expect((caught as Error).message).toMatch(/vae_encoder has no input 'sample'/);
  });
});
