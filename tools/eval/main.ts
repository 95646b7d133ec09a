/**
 * `npm run eval -- <folder of HR images> [--model id ...] [--scale 4] [--out dir] [--threads n]`
 *
 * For each image of the folder (PNG, JPEG, WebP, ...): crop to a multiple of the scale, degrade
 * it with an antialiased bicubic downscale (see degrade.ts), restore it with plain bicubic and with
 * each chosen model (the engine's pipeline on onnxruntime-node, as the CLI runs it), and report
 * PSNR and SSIM on Y with the border cropped by the scale. Writes eval.csv, report.html and crops
 * (PNG) to --out (default eval-out/). Models default to every built-in model of that scale.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadModelIndex, modelFile } from '../cli/builtin-models.ts';
import { decodeImage } from '../image-io/decode.ts';
import { createOrtNodeRuntime } from '../runtime/ort-node.ts';
import type { RgbaImage } from '../../engine/image.ts';
import { upscaleImage, upscaleOptionsFor } from '../../engine/upscale.ts';
import { bicubicUpscale, cropToMultiple, DEGRADATION, downscale } from './degrade.ts';
import { csvField } from './escape.ts';
import { htmlReport, type CropSet, type EvalRow } from './html-report.ts';
import { luma, psnr, ssim } from './metrics.ts';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.bmp', '.avif']);
const CROP = 96;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', multiple: true },
    scale: { type: 'string', default: '4' },
    out: { type: 'string', default: 'eval-out' },
    threads: { type: 'string' },
  },
});

const folder = positionals[0];
if (!folder) {
  console.error(
    'usage: npm run eval -- <folder of HR images> [--model id] [--scale 4] [--out dir]',
  );
  process.exit(2);
}
const scale = Number(values.scale);
if (!Number.isInteger(scale) || scale < 2)
  throw new Error(`--scale must be an integer >= 2, got ${values.scale}`);
const index = await loadModelIndex();
const models = values.model?.length
  ? values.model.map((id) => {
      const m = index.models.find((x) => x.id === id);
      if (!m)
        throw new Error(`unknown model ${id} (built: ${index.models.map((x) => x.id).join(', ')})`);
      if (m.scale !== scale) throw new Error(`${id} is x${m.scale}, not x${scale}`);
      return m;
    })
  : index.models.filter((m) => m.scale === scale);
if (models.length === 0) throw new Error(`no built-in model for x${scale}`);

const outDir = path.resolve(values.out);
await mkdir(path.join(outDir, 'crops'), { recursive: true });
const runtime = createOrtNodeRuntime(
  values.threads ? { intraOpNumThreads: Number(values.threads) } : {},
);
const sessions = new Map(
  await Promise.all(
    models.map(async (m) => [m.id, await runtime.createSession(modelFile(m))] as const),
  ),
);

const files = (await readdir(folder))
  .filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase()))
  .sort();
const rows: EvalRow[] = [];
const crops: CropSet[] = [];

async function saveCrop(image: RgbaImage, x: number, y: number, name: string): Promise<string> {
  const rel = `crops/${name}.png`;
  await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  })
    .extract({
      left: x,
      top: y,
      width: Math.min(CROP, image.width - x),
      height: Math.min(CROP, image.height - y),
    })
    .png()
    .toFile(path.join(outDir, rel));
  return rel;
}

/** Top-left of the CROP x CROP window with the most luma variance (on a coarse grid). */
function busiestWindow(image: RgbaImage): [number, number] {
  const y = luma(image);
  let best: [number, number] = [0, 0];
  let bestVar = -1;
  const step = Math.max(8, CROP / 4);
  for (let top = 0; top + CROP <= image.height; top += step) {
    for (let left = 0; left + CROP <= image.width; left += step) {
      let s = 0;
      let s2 = 0;
      for (let j = 0; j < CROP; j += 2) {
        for (let i = 0; i < CROP; i += 2) {
          const v = y.data[(top + j) * image.width + left + i];
          s += v;
          s2 += v * v;
        }
      }
      const n = (CROP / 2) ** 2;
      const variance = s2 / n - (s / n) ** 2;
      if (variance > bestVar) {
        bestVar = variance;
        best = [left, top];
      }
    }
  }
  return best;
}

for (const file of files) {
  let hr: RgbaImage;
  try {
    hr = cropToMultiple(await decodeImage(path.join(folder, file)), scale);
  } catch (error) {
    console.warn(`skipping ${file}: ${(error as Error).message.split('\n')[0]}`);
    continue;
  }
  if (
    hr.width / scale < 4 ||
    hr.height / scale < 4 ||
    hr.width - 2 * scale < 11 ||
    hr.height - 2 * scale < 11
  ) {
    console.warn(`skipping ${file}: ${hr.width}x${hr.height} is too small for x${scale}`);
    continue;
  }
  const lr = downscale(hr, scale);
  const reference = luma(hr, scale);
  const [cx, cy] = busiestWindow(hr);
  const stem = path.parse(file).name.replace(/[^\w.-]+/g, '_');
  const set: CropSet = {
    image: file,
    crops: [['original (HR)', await saveCrop(hr, cx, cy, `${stem}-hr`)]],
  };
  const add = async (method: string, image: RgbaImage, ms: number | null) => {
    const y = luma(image, scale);
    rows.push({ image: file, method, psnr: psnr(reference, y), ssim: ssim(reference, y), ms });
    set.crops.push([
      method,
      await saveCrop(image, cx, cy, `${stem}-${method.replace(/[^\w.-]+/g, '_')}`),
    ]);
  };
  let t = performance.now();
  await add('bicubic', bicubicUpscale(lr, scale), performance.now() - t);
  for (const m of models) {
    t = performance.now();
    const out = await upscaleImage(sessions.get(m.id)!, runtime, lr, upscaleOptionsFor(m));
    await add(m.id, out, performance.now() - t);
  }
  crops.push(set);
  const mine = rows.filter((r) => r.image === file);
  console.log(
    `${file} ${hr.width}x${hr.height}: ${mine.map((r) => `${r.method} ${r.psnr.toFixed(2)} dB / ${r.ssim.toFixed(4)}`).join(', ')}`,
  );
}
if (rows.length === 0) throw new Error(`no readable images in ${folder}`);

const csv = [
  'image,method,psnr_y_db,ssim_y,ms',
  ...rows.map((r) =>
    [r.image, r.method, r.psnr.toFixed(4), r.ssim.toFixed(6), r.ms === null ? '' : r.ms.toFixed(1)]
      .map(csvField)
      .join(','),
  ),
];
await writeFile(path.join(outDir, 'eval.csv'), `${csv.join('\n')}\n`);
const notes = [
  `Degradation: ${DEGRADATION}, by x${scale}; HR images cropped to a multiple of ${scale}.`,
  `Metrics: PSNR and SSIM on Y (BT.601, MATLAB rgb2ycbcr), ${scale} px border cropped on each side; SSIM: 11x11 Gaussian window, sigma 1.5.`,
  'Models: the engine pipeline (engine/upscale.ts) on onnxruntime-node, with exact tiling.',
  `Crops: the ${CROP}x${CROP} HR window with the most detail, shown at 2x.`,
];
await writeFile(
  path.join(outDir, 'report.html'),
  htmlReport(
    `GenDR Web eval x${scale}: ${path.basename(path.resolve(folder))}`,
    notes,
    rows,
    crops,
  ),
);
for (const method of [...new Set(rows.map((r) => r.method))]) {
  const mine = rows.filter((r) => r.method === method);
  const mean = (k: 'psnr' | 'ssim') => mine.reduce((a, r) => a + r[k], 0) / mine.length;
  console.log(
    `mean ${method}: ${mean('psnr').toFixed(2)} dB / ${mean('ssim').toFixed(4)} over ${mine.length} image(s)`,
  );
}
console.log(`wrote ${path.join(outDir, 'eval.csv')} and ${path.join(outDir, 'report.html')}`);
