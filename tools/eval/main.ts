/**
 * `npm run eval -- --pairs <lr dir> <hr dir> [--model id ...] [--pack dir ...]
 *   [--results name=dir ...] [--limit n] [--threads n] --out <dir>`
 * `npm run eval -- <folder of HR images> [--scale 4] ...` (pairs made by an antialiased bicubic
 * downscale, see degrade.ts)
 *
 * Scores every method on LR/HR pairs matched by file stem: plain bicubic (always, the baseline),
 * built-in models (the engine's pipeline on onnxruntime-node, as the CLI runs it; default: the
 * index's default model), model packs (engine/latent, as `gendr-web upscale --pack` runs them),
 * and outputs made elsewhere (`--results name=dir`, files `<hr stem>*.png`). Metrics follow pyiqa
 * (see metrics.ts, niqe.ts and docs/eval.md): PSNR-Y, SSIM-Y and NIQE. Writes table.md, eval.csv,
 * report.html and its crops/ to --out, and prints the table.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadModelIndex, modelFile } from '../cli/builtin-models.ts';
import { dirPackSource } from '../builder/pack-dir.ts';
import { decodeImage } from '../image-io/decode.ts';
import { createOrtNodeRuntime } from '../runtime/ort-node.ts';
import type { RgbaImage } from '../../engine/image.ts';
import { loadPack } from '../../engine/latent/pack-loader.ts';
import { runPack } from '../../engine/latent/pipeline.ts';
import { upscaleImage, upscaleOptionsFor } from '../../engine/upscale.ts';
import { bicubicUpscale, cropToMultiple, DEGRADATION, downscale } from './degrade.ts';
import { csvField } from './escape.ts';
import { htmlReport, type ImageCrops } from './html-report.ts';
import { lumaPlane, psnr, ssim } from './metrics.ts';
import { niqe, niqeParamsFromNpz } from './niqe.ts';
import { summarise, tableMarkdown, type EvalRow } from './table.ts';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp', '.avif']);
/** Side of the HR crop saved for the report (the LR crop is this / scale). */
const CROP = 192;
/** MATLAB's NIQE pristine model as BasicSR ships it; kept out of the repository (shared data). */
const NIQE_PARAMS = path.join(
  process.env.GENDR_SHARED ?? path.resolve(import.meta.dirname, '../../../shared'),
  'metrics',
  'niqe_pris_params.npz',
);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: 'boolean' },
    model: { type: 'string', multiple: true },
    pack: { type: 'string', multiple: true },
    results: { type: 'string', multiple: true },
    scale: { type: 'string', default: '4' },
    limit: { type: 'string' },
    out: { type: 'string', default: 'eval-out' },
    threads: { type: 'string' },
    'niqe-params': { type: 'string' },
  },
});

const USAGE =
  'usage: npm run eval -- --pairs <lr dir> <hr dir> [--model id ...] [--pack dir ...] [--results name=dir ...] [--limit n] --out <dir>\n' +
  '       npm run eval -- <folder of HR images> [--scale 4] [...]';
if (values.pairs ? positionals.length !== 2 : positionals.length !== 1) {
  console.error(USAGE);
  process.exit(2);
}

interface Pair {
  name: string;
  stem: string;
  lr: () => Promise<RgbaImage>;
  hr: () => Promise<RgbaImage>;
}

const stemOf = (file: string) => path.parse(file).name;
const listImages = async (dir: string) =>
  (await readdir(dir)).filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase())).sort();

async function pairsFromDirs(lrDir: string, hrDir: string): Promise<Pair[]> {
  const lrByStem = new Map((await listImages(lrDir)).map((f) => [stemOf(f), f]));
  const pairs: Pair[] = [];
  for (const f of await listImages(hrDir)) {
    const lrFile = lrByStem.get(stemOf(f));
    if (!lrFile) {
      console.warn(`skipping ${f}: no LR file with the stem ${stemOf(f)} in ${lrDir}`);
      continue;
    }
    pairs.push({
      name: f,
      stem: stemOf(f),
      lr: () => decodeImage(path.join(lrDir, lrFile)),
      hr: () => decodeImage(path.join(hrDir, f)),
    });
  }
  return pairs;
}

async function pairsFromHr(dir: string, scale: number): Promise<Pair[]> {
  return (await listImages(dir)).map((f) => {
    const hr = async () => cropToMultiple(await decodeImage(path.join(dir, f)), scale);
    return { name: f, stem: stemOf(f), hr, lr: async () => downscale(await hr(), scale) };
  });
}

let pairs = values.pairs
  ? await pairsFromDirs(positionals[0], positionals[1])
  : await pairsFromHr(positionals[0], Number(values.scale));
if (values.limit) pairs = pairs.slice(0, Number(values.limit));
if (pairs.length === 0) throw new Error('no image pairs found');

// Methods: bicubic, built-in models, packs, external results.
const runtime = createOrtNodeRuntime(
  values.threads ? { intraOpNumThreads: Number(values.threads) } : {},
);
const index = await loadModelIndex();
const modelIds = values.model?.length ? values.model : values.pack?.length ? [] : [index.default];
const models = modelIds.map((id) => {
  const m = index.models.find((x) => x.id === id);
  if (!m)
    throw new Error(`unknown model ${id} (built: ${index.models.map((x) => x.id).join(', ')})`);
  return m;
});
const packs = await Promise.all(
  (values.pack ?? []).map((dir) => loadPack(dirPackSource(dir), runtime)),
);
const results = (values.results ?? []).map((spec) => {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--results wants name=dir, got ${spec}`);
  const dir = spec.slice(eq + 1);
  // Sorted, so that `<stem>.png` comes before `<stem>_suffix.png`.
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort();
  return { name: spec.slice(0, eq), dir, files };
});

const niqeFile = values['niqe-params'] ?? NIQE_PARAMS;
const niqeParams = existsSync(niqeFile) ? niqeParamsFromNpz(readFileSync(niqeFile)) : null;
if (!niqeParams)
  console.warn(`NIQE skipped: no pristine parameters at ${niqeFile} (--niqe-params)`);
const sessions = new Map(
  await Promise.all(
    models.map(async (m) => [m.id, await runtime.createSession(modelFile(m))] as const),
  ),
);

const outDir = path.resolve(values.out);
await mkdir(path.join(outDir, 'crops'), { recursive: true });
const rows: EvalRow[] = [];
const crops: ImageCrops[] = [];
const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');

async function saveCrop(image: RgbaImage, x: number, y: number, size: number, name: string) {
  const rel = `crops/${safe(name)}.png`;
  await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  })
    .extract({ left: x, top: y, width: size, height: size })
    .png()
    .toFile(path.join(outDir, rel));
  return rel;
}

/** Top-left of the size x size window with the most luma variance (coarse grid, multiple of step). */
function busiestWindow(image: RgbaImage, size: number, step: number): [number, number] {
  const y = lumaPlane(image);
  let best: [number, number] = [0, 0];
  let bestVar = -1;
  for (let top = 0; top + size <= image.height; top += step) {
    for (let left = 0; left + size <= image.width; left += step) {
      let s = 0;
      let s2 = 0;
      for (let j = 0; j < size; j += 2) {
        for (let i = 0; i < size; i += 2) {
          const v = y.data[(top + j) * image.width + left + i];
          s += v;
          s2 += v * v;
        }
      }
      const n = (size / 2) ** 2;
      const variance = s2 / n - (s / n) ** 2;
      if (variance > bestVar) {
        bestVar = variance;
        best = [left, top];
      }
    }
  }
  return best;
}

let scale = 0;
for (const pair of pairs) {
  const [lr, hr] = [await pair.lr(), await pair.hr()];
  const s = hr.width / lr.width;
  if (!Number.isInteger(s) || hr.height !== lr.height * s)
    throw new Error(
      `${pair.name}: HR ${hr.width}x${hr.height} is not an integer multiple of LR ${lr.width}x${lr.height}`,
    );
  if (scale === 0) {
    scale = s;
    for (const m of models)
      if (m.scale !== scale) throw new Error(`${m.id} is x${m.scale}, the pairs are x${scale}`);
    for (const p of packs)
      if (p.manifest.input.scale !== scale)
        throw new Error(
          `pack ${p.manifest.id} is x${p.manifest.input.scale}, the pairs are x${scale}`,
        );
  } else if (s !== scale) throw new Error(`${pair.name} is x${s}, the other pairs x${scale}`);
  const refPsnr = lumaPlane(hr);
  const refSsim = lumaPlane(hr, { round: true });
  const size = Math.min(CROP, hr.width - (hr.width % scale), hr.height - (hr.height % scale));
  const cropSize = size - (size % scale);
  const [cx, cy] = busiestWindow(hr, cropSize, scale * 4);
  const set: ImageCrops = {
    image: pair.name,
    size: cropSize,
    lr: await saveCrop(lr, cx / scale, cy / scale, cropSize / scale, `${pair.stem}-lr`),
    hr: await saveCrop(hr, cx, cy, cropSize, `${pair.stem}-hr`),
    methods: [],
  };
  const add = async (method: string, image: RgbaImage, ms: number | null) => {
    if (image.width !== hr.width || image.height !== hr.height)
      throw new Error(
        `${method} on ${pair.name}: ${image.width}x${image.height}, HR is ${hr.width}x${hr.height}`,
      );
    rows.push({
      image: pair.name,
      method,
      psnr: psnr(refPsnr, lumaPlane(image)),
      ssim: ssim(refSsim, lumaPlane(image, { round: true })),
      niqe:
        niqeParams && image.width >= 96 && image.height >= 96
          ? niqe(lumaPlane(image, { space: 'yiq', round: true }), niqeParams)
          : NaN,
      ms,
    });
    set.methods.push([method, await saveCrop(image, cx, cy, cropSize, `${pair.stem}-${method}`)]);
  };
  let t = performance.now();
  await add('bicubic', bicubicUpscale(lr, scale), performance.now() - t);
  for (const m of models) {
    t = performance.now();
    const out = await upscaleImage(sessions.get(m.id)!, runtime, lr, upscaleOptionsFor(m));
    await add(m.id, out, performance.now() - t);
  }
  for (const p of packs) {
    t = performance.now();
    const out = await runPack(p.sessions, p.manifest, lr, {
      tensors: runtime,
      embeddings: p.embeddings,
      packInterface: p.packInterface,
      colorFix: 'adain',
    });
    await add(p.manifest.id, out, performance.now() - t);
  }
  for (const r of results) {
    // `<stem>.png`, else `<stem>` and a separator (`_out.png`, `-sr.png`), else any `<stem>*.png`.
    const file =
      r.files.find((f) => f === `${pair.stem}.png`) ??
      r.files.find(
        (f) => f.startsWith(pair.stem) && /^[^a-z0-9]/i.test(f.slice(pair.stem.length)),
      ) ??
      r.files.find((f) => f.startsWith(pair.stem));
    if (!file) throw new Error(`--results ${r.name}: no ${pair.stem}*.png in ${r.dir}`);
    await add(r.name, await decodeImage(path.join(r.dir, file)), null);
  }
  crops.push(set);
  const mine = rows.filter((r) => r.image === pair.name);
  console.log(
    `${pair.name} ${hr.width}x${hr.height}: ${mine.map((r) => `${r.method} ${r.psnr.toFixed(2)}/${r.ssim.toFixed(4)}/${r.niqe.toFixed(2)}`).join(', ')}`,
  );
}
for (const p of packs) await p.release();

const csv = [
  'image,method,psnr_y_db,ssim_y,niqe,ms',
  ...rows.map((r) =>
    [
      r.image,
      r.method,
      r.psnr.toFixed(4),
      r.ssim.toFixed(6),
      Number.isNaN(r.niqe) ? '' : r.niqe.toFixed(4),
      r.ms === null ? '' : r.ms.toFixed(1),
    ]
      .map(csvField)
      .join(','),
  ),
];
await writeFile(path.join(outDir, 'eval.csv'), `${csv.join('\n')}\n`);
const summary = summarise(rows);
const table = tableMarkdown(summary);
const source = values.pairs
  ? `${pairs.length} LR/HR pairs from ${path.relative(path.resolve(positionals[1], '../..'), path.resolve(positionals[1]))} (x${scale})`
  : `${pairs.length} HR images of ${path.basename(path.resolve(positionals[0]))}, LR by ${DEGRADATION} (x${scale})`;
const notes = [
  `Data: ${source}.`,
  'PSNR-Y: Y of BT.601 (MATLAB rgb2ycbcr, [16, 235], unrounded), no border crop. SSIM-Y: the same Y rounded to integers, 11x11 Gaussian window (sigma 1.5), no downsampling. NIQE: Y of YIQ rounded, 96x96 blocks, MATLAB pristine model (pyiqa defaults). See docs/eval.md.',
  'Models: the engine pipeline (engine/upscale.ts, exact tiling) and packs (engine/latent) on onnxruntime-node; ms/image is the wall time of the restore only.',
];
await writeFile(
  path.join(outDir, 'table.md'),
  `${notes.map((n) => `- ${n}`).join('\n')}\n\n${table}\n`,
);
await writeFile(
  path.join(outDir, 'report.html'),
  htmlReport(`GenDR Web eval: ${source}`, notes, rows, crops),
);
console.log(`\n${table}`);
console.log(
  `wrote ${['table.md', 'eval.csv', 'report.html'].map((f) => path.join(outDir, f)).join(', ')}`,
);
