/**
 * The tiny SD pack of the SD builder issue (proof 2), built at test time the way a user builds a
 * real one: TINY_UNET and TINY_VAE (test/helpers/sd-tiny.ts) with seeded random weights, written
 * as diffusers-named safetensors in diffusers' folder layout (unet/, vae/, each with config.json
 * and diffusion_pytorch_model.safetensors) plus a prompt embedding, then packed by the real
 * `gendr-web pack` command.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseUnetConfig } from '../../tools/builder/architectures/sd-unet/config.ts';
import { planUnet, unetTensorSpecs } from '../../tools/builder/architectures/sd-unet/plan.ts';
import { parseVaeConfig } from '../../tools/builder/architectures/sd-vae/config.ts';
import { planVae, vaeTensorSpecs } from '../../tools/builder/architectures/sd-vae/plan.ts';
import { writeRandomSafetensors } from '../../tools/builder/random-weights.ts';
import { writeSafetensorsFile } from '../../tools/builder/safetensors-file.ts';
import { signal, TINY_UNET, TINY_VAE } from '../../test/helpers/sd-tiny.ts';
import { repoRoot } from '../../test/helpers/shared.ts';

const run = promisify(execFile);

/** Runs `gendr-web <args>` (bin/gendr-web.mjs) in the repository; resolves to its stderr. */
export async function gendrCli(...args: string[]): Promise<string> {
  try {
    const { stderr } = await run(
      process.execPath,
      [path.join(repoRoot, 'bin/gendr-web.mjs'), ...args],
      {
        cwd: repoRoot,
        timeout: 180_000,
      },
    );
    return stderr;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${e.message}\n${e.stderr ?? ''}`, { cause: err });
  }
}

/** A diffusers-style folder: unet/ and vae/ with config.json + diffusion_pytorch_model.safetensors. */
export async function writeDiffusersCheckpoint(root: string): Promise<void> {
  await writeRandomSafetensors(
    path.join(root, 'unet/diffusion_pytorch_model.safetensors'),
    unetTensorSpecs(planUnet(parseUnetConfig(TINY_UNET))),
    31,
  );
  fs.writeFileSync(path.join(root, 'unet/config.json'), JSON.stringify(TINY_UNET));
  await writeRandomSafetensors(
    path.join(root, 'vae/diffusion_pytorch_model.safetensors'),
    vaeTensorSpecs(planVae(parseVaeConfig(TINY_VAE))),
    32,
  );
  fs.writeFileSync(path.join(root, 'vae/config.json'), JSON.stringify(TINY_VAE));
  await writeSafetensorsFile(path.join(root, 'prompt_embeds.safetensors'), [
    { name: 'prompt_embeds', dtype: 'F32', shape: [1, 77, 32], data: signal(77 * 32, 0.23, 1) },
  ]);
}

export const TINY_SD_PACK_ID = 'sd-tiny';
export const TINY_SD_PACK_NAME = 'Tiny SD 2.1-architecture pack (random weights)';

/**
 * Writes the diffusers checkpoint to a scratch folder and packs it into `out` with `gendr-web
 * pack --preset gendr` (fp32; plain graphs plus the fused variant for onnxruntime-node; every
 * graph's weights in ONNX external data), as e2e/sd-pack-parity.spec.ts's fp32 pack.
 */
export async function writeTinySdPackWithCli(out: string): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-sd-tiny-'));
  try {
    await writeDiffusersCheckpoint(work);
    await gendrCli(
      'pack',
      '--preset',
      'gendr',
      '--unet',
      path.join(work, 'unet'),
      '--vae',
      path.join(work, 'vae'),
      '--embedding',
      path.join(work, 'prompt_embeds.safetensors'),
      '--form',
      'both',
      '--external-data',
      'always',
      '--id',
      TINY_SD_PACK_ID,
      '--name',
      TINY_SD_PACK_NAME,
      '--out',
      out,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
