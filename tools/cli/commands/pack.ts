/**
 * `gendr-web pack`: a complete latent SR pack (VAE encoder and decoder, UNet, prompt embedding,
 * manifest with sizes and sha256s) from diffusers UNet and AutoencoderKL weights, in one go.
 */
import { LATENT_PRESETS, type LatentPresetName } from '../../../engine/latent/presets.ts';
import { modelPresetForLatent } from '../../builder/presets/index.ts';
import { writeSdPack } from '../../builder/sd-pack.ts';
import { parseCommandArgs, positiveNumberOption, required } from '../args.ts';
import { EXIT_OK, type CliCommand, type CliIo } from '../command.ts';
import { withAtomicOutput } from '../atomic-output.ts';
import { UsageError } from '../usage-error.ts';
import {
  componentOptions,
  configFile,
  resolveUnetConfig,
  resolveVaeConfig,
  SD_COMMON_OPTIONS,
  weightsInput,
} from './convert-sd.ts';

const HELP = `Usage: gendr-web pack --preset gendr|osediff --unet <file|dir> --vae <file|dir>
                      --embedding <file.safetensors> --out <pack dir> [options]

Builds a complete model pack (docs/model-packs.md) from diffusers weights, without Python:
vae_encoder/ and vae_decoder/ from the AutoencoderKL, unet/ from the UNet2DConditionModel, the
prompt embedding, and manifest.json with every file's size and sha256. Conversion streams: the
weights are read one tensor at a time, never held in memory.

Presets (step coefficients, embedding shape and default configs):
  gendr    SD 2.1 UNet with 16 in/out channels + ostris/vae-kl-f8-d16, t = 500, α = σ = 0.5
  osediff  SD 2.1 UNet + SD 2.1 VAE (4 channels), t = 999 of the scaled-linear schedule

Options:
  --unet <file|dir>        UNet .safetensors, *.safetensors.index.json, or its folder
  --unet-config <json>     its config.json (default: beside the weights, else the preset's)
  --vae <file|dir>         AutoencoderKL weights, likewise
  --vae-config <json>      its config.json (default: beside the weights, else the preset's)
  --embedding <file>       .safetensors with prompt_embeds [1, 77, width] (and optionally
                           negative_prompt_embeds, used with --guidance-scale)
  --guidance-scale <g>     classifier-free guidance with the negative embedding
  --dtype fp32|fp16        precision of the graphs' weights and arithmetic (default fp32)
  --io-dtype fp32|fp16     float type of the graphs' inputs and outputs (default fp32; an fp16
                           graph then casts at its boundaries)
  --form plain|fused|both  plain ONNX ops (default; every backend), onnxruntime contrib ops, or
                           both: plain graphs plus fused ones under fused/, loaded instead on
                           the backends of --fused-backends (default cpu: onnxruntime-node)
  --fused-backends <list>  with --form both: comma-separated cpu, webgpu, wasm
  --random [--seed N]      random weights (and embedding) of the full architecture, for speed work
  --external-data auto|always|never
                           ONNX external data (default auto: only past protobuf's 2 GB)
  --id <id> --name <name>  the pack's id and display name

Example:
  gendr-web pack --preset gendr --unet gendr/unet --vae vae-kl-f8-d16 --embedding prompt.safetensors \\
    --dtype fp16 --out packs/gendr
`;

export const packCommand: CliCommand = {
  name: 'pack',
  summary: 'build a complete GenDR / OSEDiff pack from diffusers UNet + VAE weights',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    const { values, positionals } = parseCommandArgs(args, {
      ...SD_COMMON_OPTIONS,
      preset: { type: 'string' },
      unet: { type: 'string' },
      'unet-config': { type: 'string' },
      vae: { type: 'string' },
      'vae-config': { type: 'string' },
      embedding: { type: 'string' },
      'guidance-scale': { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const presetName = required('preset', values.preset);
    if (!Object.hasOwn(LATENT_PRESETS, presetName)) {
      throw new UsageError(
        `--preset must be ${Object.keys(LATENT_PRESETS).join(' or ')}, got '${presetName}'`,
      );
    }
    const preset = presetName as LatentPresetName;
    if (!values.embedding && !values.random) {
      throw new UsageError('--embedding <file.safetensors> is required (or --random)');
    }
    const models = modelPresetForLatent(preset);
    const unetWeights = weightsInput(values.unet, values.random, values.seed, 'unet');
    const vaeWeights = weightsInput(values.vae, values.random, values.seed, 'vae');
    if ('random' in vaeWeights) vaeWeights.seed += 1;
    const unetConfig = resolveUnetConfig(
      configFile(values['unet-config'], unetWeights),
      models,
      'unet-config',
    );
    const vaeConfig = resolveVaeConfig(
      configFile(values['vae-config'], vaeWeights),
      models,
      'vae-config',
    );
    const opts = componentOptions(values);
    const start = performance.now();
    const m = await withAtomicOutput(required('out', values.out), (out) =>
      writeSdPack({
        ...opts,
        preset,
        unet: { weights: unetWeights, config: unetConfig },
        vae: { weights: vaeWeights, config: vaeConfig },
        embedding: {
          file: values.embedding,
          randomSeed: 'random' in unetWeights ? unetWeights.seed + 100 : undefined,
          guidanceScale: positiveNumberOption('guidance-scale', values['guidance-scale']),
        },
        out,
        id: values.id,
        name: values.name,
        onProgress: (what, c) =>
          io.stderr.write(
            `${what}: ${(c.parameters / 1e6).toFixed(1)} M parameters, ${c.nodes} nodes, ${c.seconds.toFixed(1)} s\n`,
          ),
      }),
    );
    const files = Object.entries(m.files)
      .map(([p, f]) => `  ${p} (${(f.bytes / 1e6).toFixed(1)} MB)`)
      .join('\n');
    io.stderr.write(
      `wrote pack '${m.id}' (${m.precision}, ${preset} preset) in ${((performance.now() - start) / 1000).toFixed(1)} s:\n${files}\n`,
    );
    return EXIT_OK;
  },
};
