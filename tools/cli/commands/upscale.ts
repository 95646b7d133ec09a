/** `gendr-web upscale`: super-resolves one image, or every image of a folder into a folder. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../image-io/decode.ts';
import {
  extensionFor,
  formatForPath,
  writeImage,
  type OutputFormat,
} from '../../image-io/encode.ts';
import { createOrtNodeRuntime } from '../../runtime/ort-node.ts';
import { chooseTileSize } from '../../../engine/tiling/plan.ts';
import type { RgbaImage } from '../../../engine/image.ts';
import { planFor, upscaleImage } from '../../../engine/upscale.ts';
import { intOption, parseCommandArgs } from '../args.ts';
import { loadModelIndex, modelFile, resolveUpscale } from '../builtin-models.ts';
import { EXIT_FAILED, EXIT_OK, type CliCommand, type CliIo } from '../command.ts';
import { createProgress } from '../progress.ts';
import { packUpscaleCommand } from './pack-upscale.ts';
import { UsageError } from '../usage-error.ts';

/** Tile core (input pixels) the command line aims for; the window adds 2 * overlap. */
export const CLI_TILE_CORE = 512;

/** Extensions read when the input is a folder. */
export const IMAGE_EXTENSIONS = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
]);

const HELP = `Usage: gendr-web upscale <input> <output> [options]

Super-resolves an image with a built-in model (Real-ESRGAN, ESRGAN), on the CPU (onnxruntime-node).

  <input>   an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF), or a folder of them
  <output>  for a file: the output file; its extension picks the format (.png, .webp, .jpg)
            or an existing folder, to write <name>@<scale>x.<ext> into it
            for a folder: the output folder (created if needed); each image is written as
            <name>@<scale>x.<ext>, keeping PNG, WebP and JPEG, other formats becoming PNG

Options:
  -m, --model <id|family>  a built-in model id (see \`gendr-web models\`) or a family:
                           slim, medium, thick (default: realesr-general-x4v3)
  -s, --scale <n>          with a family: its model of that scale (2, 3, 4 or 8); with an id
                           or the default: 2, 3 or 4, the model's output resized (Lanczos)
      --tile <n>           tile size in input pixels, context included (default: at most
                           ${CLI_TILE_CORE} + 2 x the model's tile margin, smaller where that
                           means less work)
      --overlap <n>        context per tile side in pixels (default: the model's tile margin,
                           which makes tiling exact; less is faster but may show seams)
  -t, --threads <n>        CPU threads (default: all cores, here ${os.availableParallelism()})
      --format <fmt>       output format for a folder: png, webp or jpg (default: keep)
  -q, --quiet              no progress, only errors
  -h, --help               show this help

With --pack <dir>, runs a model pack instead (GenDR-style one-step diffusion SR or a VAE pack):
see \`gendr-web upscale --pack <dir> --help\` and docs/model-packs.md.

Images are decoded to 8-bit RGBA (16-bit, gray and palette images are converted, EXIF
orientation is applied, animations give their first frame). Transparency is kept: the alpha
channel is upscaled by the same model. Gray images stay gray. JPEG output is flattened on white.

Exit status: 0 when every image was written, 1 when any failed (the others are still
written), 2 for a wrong command line.

Examples:
  gendr-web upscale photo.jpg photo@4x.png
  gendr-web upscale --model slim --scale 2 photos/ upscaled/
  gendr-web upscale -m esrgan-thick-x4 --threads 2 cat.png cat-big.webp
`;

interface Job {
  input: string;
  output: string;
}

export const upscaleCommand: CliCommand = {
  name: 'upscale',
  summary: 'upscale an image, or a folder of images, with a built-in model',
  help: HELP,
  run,
};

async function run(args: string[], io: CliIo): Promise<number> {
  // Model packs have their own options and code path (tools/cli/commands/pack-upscale.ts).
  if (args.some((a) => a === '--pack' || a.startsWith('--pack=')))
    return packUpscaleCommand.run(args, io);
  const { values, positionals } = parseCommandArgs(args, {
    model: { type: 'string', short: 'm' },
    scale: { type: 'string', short: 's' },
    tile: { type: 'string' },
    overlap: { type: 'string' },
    threads: { type: 'string', short: 't' },
    format: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`expected <input> and <output>, got ${positionals.length} argument(s)`);
  }
  const [input, output] = positionals;
  const scale = intOption('scale', values.scale, 1, 64);
  const tile = intOption('tile', values.tile, 1);
  const overlapOpt = intOption('overlap', values.overlap, 0);
  const threads = intOption('threads', values.threads, 1, 1024) ?? os.availableParallelism();
  const format = parseFormat(values.format);
  const quiet = values.quiet ?? false;
  const log = (line: string) => {
    if (!quiet) io.stderr.write(`${line}\n`);
  };

  const { manifest, outScale } = resolveUpscale(await loadModelIndex(), values.model, scale);
  const jobs = await planJobs(input, output, outScale, format, log);
  const overlap = overlapOpt ?? manifest.tileMargin;
  if (overlap < manifest.tileMargin) {
    log(
      `note: --overlap ${overlap} is below ${manifest.id}'s tile margin ${manifest.tileMargin}: seams may show`,
    );
  }
  const maxTileSize = tile ?? CLI_TILE_CORE + 2 * overlap;

  const runtime = createOrtNodeRuntime({ intraOpNumThreads: threads });
  const session = await runtime.createSession(modelFile(manifest));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let failed = 0;
  try {
    for (const [i, job] of jobs.entries()) {
      const label =
        jobs.length > 1
          ? `[${i + 1}/${jobs.length}] ${path.basename(job.input)}`
          : path.basename(job.input);
      const progress = quiet ? undefined : createProgress(io.stderr, label);
      try {
        const start = performance.now();
        const image = await decodeImage(job.input);
        // Without --tile: the size up to the maximum that wastes the least work on overlaps.
        const tileSize =
          tile ?? chooseTileSize(image.width, image.height, { maxTileSize, overlap });
        const plan = planFor(image.width, image.height, { tileSize, overlap });
        log(
          `${label}: ${image.width}x${image.height} -> ${image.width * outScale}x${image.height * outScale}` +
            ` with ${manifest.id}${outScale === manifest.scale ? '' : ` (x${manifest.scale}, resized)`}, ${plan.tiles.length} tile(s) of ${plan.tileWidth}x${plan.tileHeight}, ${threads} thread(s)`,
        );
        const upscaled = await upscaleImage(session, runtime, image, {
          scale: manifest.scale,
          inputRange: manifest.inputRange,
          tileSize,
          overlap,
          signal: controller.signal,
          onProgress: (done, total) => progress?.update(done, total),
        });
        progress?.end();
        const result =
          outScale === manifest.scale
            ? upscaled
            : await resizeLanczos(upscaled, image.width * outScale, image.height * outScale);
        await fs.mkdir(path.dirname(path.resolve(job.output)), { recursive: true });
        await writeImage(result, job.output);
        log(`${label}: wrote ${job.output} in ${((performance.now() - start) / 1000).toFixed(1)}s`);
      } catch (err) {
        progress?.end();
        if (controller.signal.aborted) throw err;
        failed++;
        io.stderr.write(`error: ${job.input}: ${errorMessage(err)}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    await session.release?.();
  }
  if (jobs.length > 1 || failed) {
    const ok = jobs.length - failed;
    log(`${ok} of ${jobs.length} image(s) upscaled${failed ? `, ${failed} failed` : ''}`);
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

/** Resizes with libvips' Lanczos-3 (sharp), as Real-ESRGAN's --outscale does with Lanczos-4. */
async function resizeLanczos(image: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  const { data, info } = await sharp(
    Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    { raw: { width: image.width, height: image.height, channels: 4 } },
  )
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`resize gave ${info.channels} channels`);
  return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

function parseFormat(value: string | undefined): OutputFormat | undefined {
  if (value === undefined) return undefined;
  const format = formatForPath(`x.${value.toLowerCase()}`);
  if (!format) throw new UsageError(`--format must be png, webp or jpg, got '${value}'`);
  return format;
}

function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // libvips repeats the same lines; keep each once.
  const lines = message.split('\n').map((l) => l.trim());
  return [...new Set(lines.filter(Boolean))].join('; ');
}

async function statOrNull(p: string) {
  return fs.stat(p).catch(() => null);
}

/** `<name>@<scale>x<ext>` with the format kept when we can write it, else PNG. */
function outputName(input: string, scale: number, format: OutputFormat | undefined): string {
  const ext = path.extname(input);
  const stem = path.basename(input, ext);
  const keep = formatForPath(input);
  const outExt = format ? extensionFor(format) : keep ? ext : '.png';
  return `${stem}@${scale}x${outExt}`;
}

async function planJobs(
  input: string,
  output: string,
  scale: number,
  format: OutputFormat | undefined,
  log: (line: string) => void,
): Promise<Job[]> {
  const inStat = await statOrNull(input);
  if (!inStat) throw new Error(`${input}: no such file or folder`);
  const outStat = await statOrNull(output);

  if (!inStat.isDirectory()) {
    if (outStat?.isDirectory() || /[/\\]$/.test(output)) {
      return [{ input, output: path.join(output, outputName(input, scale, format)) }];
    }
    const fileFormat = formatForPath(output);
    if (!fileFormat) {
      throw new UsageError(
        `${output}: unsupported output extension (use .png, .webp, .jpg or .jpeg)`,
      );
    }
    if (format && format !== fileFormat) {
      throw new UsageError(`--format ${format} conflicts with the output file's extension`);
    }
    return [{ input, output }];
  }

  if (outStat && !outStat.isDirectory()) {
    throw new UsageError(`${output}: the input is a folder, so the output must be a folder`);
  }
  const sameFolder = path.resolve(input) === path.resolve(output);
  const entries = (await fs.readdir(input, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  const images = entries.filter(
    (name) =>
      IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()) &&
      !(sameFolder && /@\d+x\.[^.]+$/.test(name)),
  );
  const skipped = entries.length - images.length;
  if (skipped)
    log(`skipping ${skipped} file(s) in ${input} that are not images (or are earlier outputs)`);
  if (!images.length)
    throw new Error(`${input}: no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')})`);
  const seen = new Set<string>();
  return images.map((name) => {
    let out = outputName(name, scale, format);
    if (seen.has(out)) {
      const ext = path.extname(name);
      out = outputName(`${path.basename(name, ext)}-${ext.slice(1)}${ext}`, scale, format);
    }
    seen.add(out);
    return { input: path.join(input, name), output: path.join(output, out) };
  });
}
