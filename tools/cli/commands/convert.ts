/**
 * `gendr-web convert <architecture> ...`: builds model packs from weights, in TypeScript.
 * Each architecture is one entry of CONVERTERS (taesd, the SD 2.1 UNet and KL VAE, ONNX exports).
 */
import { choiceOption, numberOption, parseCommandArgs, required } from '../args.ts';
import { EXIT_OK, EXIT_USAGE, type CliCommand, type CliIo } from '../command.ts';
import { withAtomicOutput } from '../atomic-output.ts';
import { UsageError } from '../usage-error.ts';
import { sdUnetConverter, sdVaeConverter } from './convert-sd.ts';
import { convertOnnx } from '../../builder/convert-onnx.ts';
import { convertTaesd } from '../../builder/convert-taesd.ts';
import { readPackDir, writePack } from '../../builder/pack-dir.ts';
import { withTestUnet, type TestUnetKind } from '../../builder/packs.ts';
import { LATENT_PRESETS, type LatentPresetName } from '../../../engine/latent/presets.ts';
import type { PackManifest } from '../../../engine/latent/manifest.ts';

interface Converter {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<PackManifest>;
}

const taesd: Converter = {
  name: 'taesd',
  summary: 'TAESD-family tiny autoencoder (TAESD, TAESDXL, TAESD3, TAEF1, TAEF2) → VAE pack',
  usage: `gendr-web convert taesd --encoder <enc.safetensors> --decoder <dec.safetensors> --out <pack dir>
      [--precision fp32|fp16] [--scale 4] [--scaling-factor 1] [--shift-factor 0] [--id <id>] [--name <name>]`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      encoder: { type: 'string' },
      decoder: { type: 'string' },
      out: { type: 'string' },
      precision: { type: 'string' },
      scale: { type: 'string' },
      'scaling-factor': { type: 'string' },
      'shift-factor': { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const encoder = required('encoder', values.encoder);
    const decoder = required('decoder', values.decoder);
    return withAtomicOutput(required('out', values.out), (out) =>
      convertTaesd({
        encoder,
        decoder,
        out,
        precision: choiceOption('precision', values.precision, ['fp32', 'fp16']) ?? 'fp32',
        scale: numberOption('scale', values.scale),
        scalingFactor: numberOption('scaling-factor', values['scaling-factor']),
        shiftFactor: numberOption('shift-factor', values['shift-factor']),
        id: values.id,
        name: values.name,
      }),
    );
  },
};

const testUnet: Converter = {
  name: 'test-unet',
  summary: 'adds a generated UNet with the exact pack interface to a pack (for testing)',
  usage: `gendr-web convert test-unet --pack <pack dir> [--kind identity|tiny] [--preset gendr|osediff]
      identity: ε = input latent (with α = σ = 0.5 the step is the identity); tiny: random small UNet`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      pack: { type: 'string' },
      kind: { type: 'string' },
      preset: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const dir = required('pack', values.pack);
    const kind = (values.kind ?? 'identity') as TestUnetKind;
    if (kind !== 'identity' && kind !== 'tiny')
      throw new UsageError(`--kind must be identity or tiny, got '${kind}'`);
    const presetName = (values.preset ?? 'gendr') as LatentPresetName;
    const preset = LATENT_PRESETS[presetName];
    if (!preset) throw new UsageError(`--preset must be gendr or osediff, got '${presetName}'`);
    return withAtomicOutput(dir, async (work) =>
      writePack(work, withTestUnet(await readPackDir(work), { kind, preset })),
    );
  },
};

const onnx: Converter = {
  name: 'onnx',
  summary:
    'ONNX graphs exported elsewhere (optimum layout) + prompt embedding → pack (GenDR, OSEDiff)',
  usage: `gendr-web convert onnx --dir <folder> --preset gendr|osediff --embeddings <embeds.safetensors>
      --id <id> --name <name> --licence <licence> [--source-url <url>] [--positive prompt_embeds]
      [--negative <tensor> --guidance-scale <g>]   (the folder holds vae_encoder/, unet/, vae_decoder/)`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      dir: { type: 'string' },
      preset: { type: 'string' },
      embeddings: { type: 'string' },
      positive: { type: 'string' },
      negative: { type: 'string' },
      'guidance-scale': { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
      licence: { type: 'string' },
      'source-url': { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const preset = required('preset', values.preset) as LatentPresetName;
    if (!(preset in LATENT_PRESETS))
      throw new UsageError(`--preset must be gendr or osediff, got '${preset}'`);
    const embeddings = required('embeddings', values.embeddings);
    const id = required('id', values.id);
    const name = required('name', values.name);
    const licence = required('licence', values.licence);
    // The manifest and the embedding are written into the graphs' folder: all or nothing.
    return withAtomicOutput(required('dir', values.dir), (dir) =>
      convertOnnx({
        dir,
        preset,
        embeddings,
        positive: values.positive,
        negative: values.negative,
        guidanceScale: numberOption('guidance-scale', values['guidance-scale']),
        id,
        name,
        licence,
        sourceUrl: values['source-url'],
      }),
    );
  },
};

const CONVERTERS: readonly Converter[] = [taesd, sdVaeConverter, sdUnetConverter, onnx, testUnet];

const HELP = `Usage: gendr-web convert <architecture> [options]

Builds a GenDR Web model pack (manifest.json + ONNX files, see docs/model-packs.md) from
PyTorch-style .safetensors weights (no Python needed), or from ONNX graphs exported elsewhere.

Architectures:
${CONVERTERS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}\n    ${c.usage}`).join('\n')}

Examples:
  gendr-web convert taesd --encoder taef2_encoder.safetensors --decoder taef2_decoder.safetensors --out packs/taef2
  gendr-web convert test-unet --pack packs/taef2 --kind identity
  gendr-web upscale photo.png photo@4x.png --pack packs/taef2
  gendr-web convert sd-vae --weights vae-kl-f8-d16 --preset gendr --dtype fp16 --out packs/gendr
  gendr-web convert sd-unet --weights gendr/unet --preset gendr --dtype fp16 \
    --embedding prompt_embeds.safetensors --out packs/gendr
  (gendr-web pack does both at once; see docs/sd-builder.md)
`;

export const convertCommand: CliCommand = {
  name: 'convert',
  summary:
    'build a model pack from weights or exported ONNX graphs (taesd, sd-vae, sd-unet, onnx, test-unet)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const [name, ...rest] = args;
    if (name === undefined) {
      io.stderr.write(HELP);
      return EXIT_USAGE;
    }
    if (name === '-h' || name === '--help' || rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    const converter = CONVERTERS.find((c) => c.name === name);
    if (!converter) {
      throw new UsageError(
        `unknown architecture '${name}' (known: ${CONVERTERS.map((c) => c.name).join(', ')})`,
      );
    }
    const m = await converter.run(rest);
    const files = Object.entries(m.files)
      .map(([p, f]) => `  ${p} (${(f.bytes / 1e6).toFixed(1)} MB)`)
      .join('\n');
    io.stderr.write(
      `wrote pack '${m.id}' (${m.precision}, ${m.vae.latentChannels} latent channels${m.unet ? ', with UNet' : ''}):\n${files}\n`,
    );
    return EXIT_OK;
  },
};
