/**
 * GenDR latent pipeline, per-stage times (engine/latent/pipeline.ts runPack's onStage), on
 * onnxruntime-node with the bench's thread count, for two packs built on the fly:
 *   - the real-VAE pack: TAEF2 (shared/models, MIT) with the identity UNet step;
 *   - the tiny GenDR-shaped pack (generated random weights, GenDR's interface).
 * Native only for now: the browser page does not load latent packs yet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dirPackSource, writePack, type PackContent } from '../../tools/builder/pack-dir.ts';
import { taesdPack, tinyGendrPack, withTestUnet } from '../../tools/builder/packs.ts';
import { readSafetensorsFile } from '../../tools/builder/safetensors-file.ts';
import { WeightStore } from '../../tools/builder/weights.ts';
import { decodeImage } from '../../tools/image-io/decode.ts';
import { createOrtNodeRuntime } from '../../tools/runtime/ort-node.ts';
import { loadPack } from '../../engine/latent/pack-loader.ts';
import { runPack, type StageReport } from '../../engine/latent/pipeline.ts';
import { hasShared, sharedPath } from '../../test/helpers/shared.ts';
import { stat, type Stat } from './stats.ts';

export interface GendrStages {
  pack: string;
  input: string;
  output: string;
  total: Stat;
  stages: { stage: string; runs: number; ms: Stat }[];
}

async function measurePack(
  content: PackContent,
  imageFile: string,
  threads: number,
  runs: number,
): Promise<GendrStages> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gendr-bench-pack-'));
  try {
    await writePack(dir, content);
    const runtime = createOrtNodeRuntime({ intraOpNumThreads: threads });
    const pack = await loadPack(dirPackSource(dir), runtime);
    const image = await decodeImage(imageFile);
    const perRun: StageReport[][] = [];
    const totals: number[] = [];
    let output = '';
    try {
      for (let i = 0; i <= runs; i++) {
        const stages: StageReport[] = [];
        const start = performance.now();
        const out = await runPack(pack.sessions, pack.manifest, image, {
          tensors: runtime,
          embeddings: pack.embeddings,
          packInterface: pack.packInterface,
          onStage: (s) => stages.push(s),
        });
        output = `${out.width}x${out.height}`;
        if (i > 0) {
          perRun.push(stages);
          totals.push(performance.now() - start);
        }
      }
    } finally {
      await pack.release();
    }
    const names = perRun[0]?.map((s) => s.stage) ?? [];
    return {
      pack: content.manifest.name,
      input: `${image.width}x${image.height}`,
      output,
      total: stat(totals),
      stages: names.map((stage) => ({
        stage,
        runs: perRun[0].find((s) => s.stage === stage)?.runs ?? 0,
        ms: stat(perRun.map((r) => r.find((s) => s.stage === stage)?.ms ?? NaN)),
      })),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function gendrStages(
  imageFile: string,
  threads: number,
  runs: number,
  log: (l: string) => void,
): Promise<GendrStages[]> {
  const out: GendrStages[] = [];
  const enc = sharedPath('models', 'taef2_encoder.safetensors');
  const dec = sharedPath('models', 'taef2_decoder.safetensors');
  if (
    hasShared('models', 'taef2_encoder.safetensors') &&
    hasShared('models', 'taef2_decoder.safetensors')
  ) {
    log('GenDR pipeline: real-VAE pack (TAEF2 + identity UNet)');
    const weights = {
      encoder: new WeightStore(await readSafetensorsFile(enc), enc),
      decoder: new WeightStore(await readSafetensorsFile(dec), dec),
    };
    const vae = taesdPack(weights, {
      id: 'taef2-identity',
      name: 'TAEF2 + identity UNet (real VAE)',
      precision: 'fp32',
    });
    out.push(await measurePack(withTestUnet(vae, { kind: 'identity' }), imageFile, threads, runs));
  } else {
    log('GenDR pipeline: TAEF2 weights not in the shared folder, real-VAE pack skipped');
  }
  log('GenDR pipeline: tiny GenDR-shaped pack');
  out.push(await measurePack(tinyGendrPack(), imageFile, threads, runs));
  return out;
}
