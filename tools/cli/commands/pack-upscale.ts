/**
 * `gendr-web upscale <input> <output> --pack <dir>`: runs a model pack (docs/model-packs.md) on
 * one image with onnxruntime-node. The upscale command hands every call with `--pack` to
 * packUpscaleCommand. With --report, per-stage times and peak memory are printed as JSON.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeImage } from '../../image-io/decode.ts';
import { formatForPath, writeImage } from '../../image-io/encode.ts';
import { createOrtNodeRuntime } from '../../runtime/ort-node.ts';
import { dirPackSource } from '../../builder/pack-dir.ts';
import { loadPack } from '../../../engine/latent/pack-loader.ts';
import { runPack, type StageReport } from '../../../engine/latent/pipeline.ts';
import type { ColorFix } from '../../../engine/latent/color-fix.ts';
import type { LatentTilingOption } from '../../../engine/latent/tiling-plan.ts';
import { intOption, parseCommandArgs } from '../args.ts';
import { EXIT_OK, type CliCommand, type CliIo } from '../command.ts';
import { createProgress } from '../progress.ts';
import { UsageError } from '../usage-error.ts';

const HELP = `Usage: gendr-web upscale <input> <output> --pack <pack dir> [options]

Restores an image with a model pack (a one-step latent diffusion SR model such as GenDR or
OSEDiff, or a VAE-only pack), on the CPU (onnxruntime-node).

Options:
      --pack <dir>            the pack folder (manifest.json and its ONNX files)
      --color-fix <mode>      adain (default), wavelet or none
      --no-tiling             run every stage on the whole image
      --encoder-tile <px>     encoder tile in image pixels (overlap: --encoder-overlap)
      --unet-tile <n>         UNet tile in latent pixels (overlap: --unet-overlap)
      --decoder-tile <n>      decoder tile in latent pixels (overlap: --decoder-overlap)
  -t, --threads <n>           CPU threads (default: all cores, here ${os.availableParallelism()})
      --report                print per-stage times and peak memory as JSON on stdout
  -q, --quiet                 no progress, only errors
  -h, --help                  show this help
`;

export interface PackUpscaleReport {
  input: { width: number; height: number };
  output: { width: number; height: number };
  pack: string;
  colorFix: ColorFix;
  stages: StageReport[];
  totalMs: number;
  /** Peak resident set size of the process (bytes), from getrusage. */
  peakRssBytes: number;
}

export interface PackUpscaleOptions {
  input: string;
  output: string;
  pack: string;
  colorFix?: ColorFix;
  tiling?: LatentTilingOption;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/** Loads the pack, restores one image file and writes the result; returns the measurements. */
export async function packUpscale(o: PackUpscaleOptions): Promise<PackUpscaleReport> {
  const runtime = createOrtNodeRuntime({
    intraOpNumThreads: o.threads ?? os.availableParallelism(),
  });
  const pack = await loadPack(dirPackSource(o.pack), runtime);
  try {
    const image = await decodeImage(o.input);
    const m = pack.manifest;
    const colorFix = o.colorFix ?? 'adain';
    o.log?.(
      `${path.basename(o.input)}: ${image.width}x${image.height} -> ${image.width * m.input.scale}x${image.height * m.input.scale} with pack ${m.id}`,
    );
    const stages: StageReport[] = [];
    const start = performance.now();
    const result = await runPack(pack.sessions, m, image, {
      tensors: runtime,
      embeddings: pack.embeddings,
      packInterface: pack.packInterface,
      colorFix,
      tiling: o.tiling,
      signal: o.signal,
      onProgress: o.onProgress,
      onStage: (s) => stages.push(s),
    });
    const totalMs = performance.now() - start;
    await fs.mkdir(path.dirname(path.resolve(o.output)), { recursive: true });
    await writeImage(result, o.output);
    return {
      input: { width: image.width, height: image.height },
      output: { width: result.width, height: result.height },
      pack: m.id,
      colorFix,
      stages,
      totalMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await pack.release();
  }
}

function tilingOption(
  values: Record<string, string | boolean | undefined>,
): LatentTilingOption | undefined {
  if (values['no-tiling']) return 'none';
  const n = (k: string, min: number) => intOption(k, values[k] as string | undefined, min);
  const spec = (tile: string, overlap: string) => {
    const t = n(tile, 1);
    const ov = n(overlap, 0);
    return t === undefined && ov === undefined
      ? undefined
      : { ...(t ? { tile: t } : {}), ...(ov !== undefined ? { overlap: ov } : {}) };
  };
  const encoder = spec('encoder-tile', 'encoder-overlap');
  const unet = spec('unet-tile', 'unet-overlap');
  const decoder = spec('decoder-tile', 'decoder-overlap');
  if (!encoder && !unet && !decoder) return undefined;
  return { encoder, unet, decoder };
}

export const packUpscaleCommand: CliCommand = {
  name: 'upscale',
  summary: 'restore an image with a model pack (upscale --pack <dir>)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      pack: { type: 'string' },
      'color-fix': { type: 'string' },
      'no-tiling': { type: 'boolean' },
      'encoder-tile': { type: 'string' },
      'encoder-overlap': { type: 'string' },
      'unet-tile': { type: 'string' },
      'unet-overlap': { type: 'string' },
      'decoder-tile': { type: 'string' },
      'decoder-overlap': { type: 'string' },
      threads: { type: 'string', short: 't' },
      report: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    if (!values.pack) throw new UsageError('--pack <dir> is required');
    if (positionals.length !== 2) {
      throw new UsageError(`expected <input> and <output>, got ${positionals.length} argument(s)`);
    }
    const [input, output] = positionals;
    if (!formatForPath(output)) {
      throw new UsageError(
        `${output}: unsupported output extension (use .png, .webp, .jpg or .jpeg)`,
      );
    }
    const colorFix = (values['color-fix'] ?? 'adain') as ColorFix;
    if (!['adain', 'wavelet', 'none'].includes(colorFix)) {
      throw new UsageError(`--color-fix must be adain, wavelet or none, got '${colorFix}'`);
    }
    const quiet = values.quiet ?? false;
    const log = (line: string) => {
      if (!quiet) io.stderr.write(`${line}\n`);
    };
    const progress = quiet ? undefined : createProgress(io.stderr, path.basename(input));
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const report = await packUpscale({
        input,
        output,
        pack: values.pack,
        colorFix,
        tiling: tilingOption(values),
        threads: intOption('threads', values.threads, 1, 1024),
        signal: controller.signal,
        onProgress: (done, total) => progress?.update(done, total),
        log,
      });
      progress?.end();
      const times = report.stages.map((s) => `${s.stage} ${(s.ms / 1000).toFixed(2)}s`).join(', ');
      log(
        `wrote ${output} in ${(report.totalMs / 1000).toFixed(1)}s (${times}); peak RSS ${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
      if (values.report) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT_OK;
    } finally {
      progress?.end();
      process.off('SIGINT', onSigint);
    }
  },
};
