/**
 * Tile size vs time and exactness for the built-in models on chelsea.png (451x300), on
 * onnxruntime-node. For each tile size: wall time of upscaleImage (median of `runs`, after one
 * warm-up) and the max abs difference (0..255) to the untiled output.
 *
 *   npx tsx bench/engine-tiles.ts [model-id ...] [--threads N] [--runs N] [--tiles 64,128,...]
 */
import { parseArgs } from 'node:util';
import { loadModelIndex, modelFile } from '../tools/cli/builtin-models.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { createOrtNodeRuntime } from '../tools/runtime/ort-node.ts';
import type { RgbaImage } from '../engine/image.ts';
import { planFor, upscaleImage, upscaleOptionsFor } from '../engine/upscale.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    tiles: { type: 'string', default: '64,97,128,256,512' },
    overlap: { type: 'string' },
  },
});
const ids = positionals.length ? positionals : ['esrgan-slim-x4', 'esrgan-medium-x4'];
const threads = Number(values.threads);
const runs = Number(values.runs);
const tiles = values.tiles.split(',').map(Number);

const image = await decodeImage(sharedPath('images', 'chelsea.png'));
const index = await loadModelIndex();
const runtime = createOrtNodeRuntime({ intraOpNumThreads: threads });

function maxAbsDiff(a: RgbaImage, b: RgbaImage): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}

console.log(`chelsea.png ${image.width}x${image.height}, ${threads} thread(s), median of ${runs}`);
for (const id of ids) {
  const manifest = index.models.find((m) => m.id === id);
  if (!manifest) throw new Error(`unknown model ${id}`);
  const session = await runtime.createSession(modelFile(manifest));
  const base = { ...upscaleOptionsFor(manifest) };
  if (values.overlap) base.overlap = Number(values.overlap);
  const time = async (tileSize: number) => {
    const ms: number[] = [];
    let out: RgbaImage | undefined;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      out = await upscaleImage(session, runtime, image, { ...base, tileSize });
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { out: out!, ms: ms[Math.floor(ms.length / 2)] };
  };
  await upscaleImage(session, runtime, image, { ...base, tileSize: 1024 }); // warm-up
  const ref = await time(1024);
  console.log(`${id} (overlap ${base.overlap}): untiled ${ref.ms.toFixed(0)} ms`);
  for (const tileSize of tiles) {
    const plan = planFor(image.width, image.height, { ...base, tileSize });
    const { out, ms } = await time(tileSize);
    console.log(
      `  tile ${String(plan.tileSize).padStart(4)}: ${String(plan.tiles.length).padStart(3)} tiles ` +
        `${ms.toFixed(0).padStart(6)} ms  max diff ${maxAbsDiff(out, ref.out)}`,
    );
  }
  await session.release?.();
}
