/**
 * Proof 4 of the latent pipeline issue, on a real VAE: the real-VAE pack (TAEF2 encoder and
 * decoder converted by our builder at test time, plus the generated identity UNet with GenDR's
 * α = σ = 0.5; e2e/helpers/real-vae-pack.ts) is served from another origin, installed in the app
 * from its manifest URL, picked in the model picker and restores a 64x64 crop of chelsea.png ×4 on
 * WASM. Its output blocks reach the canvas as several tile updates, and the downloaded result
 * matches `gendr-web upscale --pack` on the same input within 3/255 and, the step being the
 * identity, the bicubic upscale at ≥ 30 dB.
 *
 * Needs the TAEF2 weights from the shared folder; skips with a message when they are missing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { decodeImage } from '../tools/image-io/decode.ts';
import type { RgbaImage } from '../workers/engine/image.ts';
import { resizePlanar } from '../workers/engine/latent/bicubic.ts';
import { clampInPlace, planarToRgba, rgbaToPlanar } from '../workers/engine/latent/planar.ts';
import { psnrRgb } from '../test/helpers/latent-packs.ts';
import { repoRoot } from '../test/helpers/shared.ts';
import { chooseBackend, download, openFile, waitForResult } from './helpers/app.ts';
import { maxChannelDiff, photoPath, readRgba, scratchPath } from './helpers/images.ts';
import { startPackServer, type PackServer } from './helpers/pack-server.ts';
import { REAL_VAE_PACK_ID, realVaeMissing, writeRealVaePack } from './helpers/real-vae-pack.ts';

const PACK_PORT = Number(process.env.GENDR_E2E_PACK_PORT ?? 4197);
const SIZE = 64;
const SCALE = 4;
const run = promisify(execFile);
const missing = realVaeMissing();

let packs: PackServer;
let input: string;
let reference: string;
let cliMs = 0;

/** The test hook's run times (src/lib/test-hook.ts). */
interface RunTimes {
  startedAt: number | null;
  finishedAt: number | null;
  runMs: number | null;
}

/** Bicubic ×scale of the input, as the pipeline upscales it before encoding. */
function bicubic(image: RgbaImage, scale: number): RgbaImage {
  const planar = rgbaToPlanar(image);
  const up = resizePlanar(planar, image.width * scale, image.height * scale, 'bicubic-pil');
  clampInPlace(up.data, 0, 1);
  return planarToRgba(up);
}

test.describe('real-VAE pack in the app', () => {
  test.skip(missing !== null, missing ?? '');

  test.beforeAll(async () => {
    packs = await startPackServer(PACK_PORT, {
      packs: { [REAL_VAE_PACK_ID]: writeRealVaePack },
    });
    input = scratchPath(`real-vae-in${SIZE}.png`);
    await sharp((await photoPath()).file)
      .extract({ left: 192, top: 96, width: SIZE, height: SIZE })
      .png()
      .toFile(input);
    // The command line's run of the same pack, before the browser starts (2 cores: not at once).
    reference = scratchPath('real-vae-cli.png');
    const start = performance.now();
    await run(
      process.execPath,
      [
        path.join(repoRoot, 'bin/gendr-web.mjs'),
        'upscale',
        input,
        reference,
        '--pack',
        path.join(packs.dir, REAL_VAE_PACK_ID),
        '--quiet',
      ],
      { cwd: repoRoot, timeout: 120_000 },
    );
    cliMs = performance.now() - start;
  });
  test.afterAll(async () => packs?.close());

  test('the TAEF2 + identity UNet pack installs from a URL, streams blocks and matches the command line', async ({
    page,
  }) => {
    const testStart = performance.now();
    await page.goto('/');
    await page.getByTestId('model-manager').locator('summary').click();
    await page.getByTestId('pack-url-input').fill(packs.manifestUrl(REAL_VAE_PACK_ID));
    await page.getByTestId('pack-url-install').click();
    await expect(page.getByTestId('pack-installed')).toContainText('TAEF2 + identity UNet');

    const option = page.getByTestId(`model-option-pack:${REAL_VAE_PACK_ID}`);
    await expect(option).toBeVisible();
    await option.check();
    await expect(page.getByTestId(`scale-option-${SCALE}`)).toBeChecked();
    await chooseBackend(page, 'wasm');
    await openFile(page, input);
    await waitForResult(page, 90_000);
    const out = SIZE * SCALE;
    await expect(page.getByTestId('result-size')).toHaveText(`${out}x${out}`);
    await expect(page.getByTestId('backend-used')).toHaveAttribute('data-backend', 'wasm');

    // The manifest's tiling splits the decoder's output into 3×3 blocks: several tile updates,
    // in order, the last one completing the run.
    const updates = await page.evaluate(() => window.__gendr.tileLog);
    // Whole run (loading the runtime and the pack included) and the worker's restore alone.
    const times = await page.evaluate(() => {
      const hook = window.__gendr as unknown as RunTimes;
      return { startedAt: hook.startedAt, finishedAt: hook.finishedAt, runMs: hook.runMs };
    });
    const totalMs = (times.finishedAt ?? NaN) - (times.startedAt ?? NaN);
    const partial = updates.filter((u) => u.done < u.total);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < updates.length; i++)
      expect(updates[i].done).toBeGreaterThanOrEqual(updates[i - 1].done);
    expect(updates.at(-1)!.done).toBe(updates.at(-1)!.total);

    const saved = (await download(page, 'real-vae-app.png')).file;
    const diff = maxChannelDiff(await readRgba(saved), await readRgba(reference));
    const result = await decodeImage(saved);
    const vsBicubic = psnrRgb(result, bicubic(await decodeImage(input), SCALE));
    const spread = updates.at(-1)!.at - updates[0].at;
    console.log(
      `real-VAE pack, ${SIZE}² ×${SCALE} on WASM: app run ${Math.round(totalMs)} ms (restore ${Math.round(times.runMs ?? NaN)} ms), ` +
        `${updates.length} tile updates over ${Math.round(spread)} ms; CLI ${Math.round(cliMs)} ms; ` +
        `max diff vs CLI ${diff}/255; vs bicubic ${vsBicubic.toFixed(2)} dB; ` +
        `test body ${Math.round(performance.now() - testStart)} ms`,
    );
    expect(diff).toBeLessThanOrEqual(3);
    expect(vsBicubic).toBeGreaterThanOrEqual(30);
  });
});
