/**
 * Proof 4 of the latent pipeline issue, on a real VAE: the real-VAE pack (TAEF2 encoder and
 * decoder converted by our builder at test time, plus the generated identity UNet with GenDR's
 * α = σ = 0.5; e2e/helpers/real-vae-pack.ts) is served from another origin, installed in the app
 * from its manifest URL, picked in the model picker and restores a 64x64 crop of chelsea.png ×4 on
 * WASM. Its output blocks reach the canvas as several tile updates, and the downloaded result
 * matches `gendr-web upscale --pack` on the same input within 3/255 and, the step being the
 * identity, the bicubic upscale at ≥ 30 dB.
 *
 * The colour fix is AdaIN by default, which needs the whole decoded image, so every block arrives
 * at the end; picked as 'none' in the UI, blocks stream out as the decoder finishes each row of
 * tiles, spread over the decoding, and the result matches `--color-fix none` on the command line.
 *
 * Needs the TAEF2 weights from the shared folder; skips with a message when they are missing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { decodeImage } from '../tools/image-io/decode.ts';
import type { RgbaImage } from '../engine/image.ts';
import { resizePlanar } from '../engine/latent/bicubic.ts';
import { clampInPlace, planarToRgba, rgbaToPlanar } from '../engine/latent/planar.ts';
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
let referenceNone: string;
let cliMs = 0;

/** The test hook's run times (src/lib/test-hook.ts). */
interface RunTimes {
  startedAt: number | null;
  finishedAt: number | null;
  runMs: number | null;
}

type TileLog = { done: number; total: number; at: number }[];

/** Milliseconds from the first partial tile update to the last update of the run. */
function partialSpread(updates: TileLog): number {
  const first = updates.find((u) => u.done < u.total);
  return first ? updates.at(-1)!.at - first.at : 0;
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
    referenceNone = scratchPath('real-vae-cli-none.png');
    const cli = (output: string, ...extra: string[]) =>
      run(
        process.execPath,
        [
          path.join(repoRoot, 'bin/gendr-web.mjs'),
          'upscale',
          input,
          output,
          '--pack',
          path.join(packs.dir, REAL_VAE_PACK_ID),
          '--quiet',
          ...extra,
        ],
        { cwd: repoRoot, timeout: 120_000 },
      );
    const start = performance.now();
    await cli(reference);
    cliMs = performance.now() - start;
    await cli(referenceNone, '--color-fix', 'none');
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

    const option = page.getByTestId(`model-option-pack/${REAL_VAE_PACK_ID}`);
    await expect(option).toBeVisible();
    // The colour-fix choice belongs to packs: hidden for built-in models, AdaIN by default.
    const colorFix = page.getByRole('group', { name: 'Colour fix' });
    await expect(colorFix).toHaveCount(0);
    await option.check();
    await expect(page.getByTestId(`scale-option-${SCALE}`)).toBeChecked();
    await expect(colorFix).toBeVisible();
    await expect(colorFix.getByRole('radio', { name: 'AdaIN' })).toBeChecked();
    await expect(colorFix.getByRole('radio', { name: 'None' })).not.toBeChecked();
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

    // Colour fix 'none', picked in the UI: the same pack (already loaded) restores again, its
    // blocks arriving row by row while the decoder runs instead of all at the end.
    await colorFix.getByRole('radio', { name: 'None' }).check();
    await expect(colorFix.getByRole('radio', { name: 'AdaIN' })).not.toBeChecked();
    const previousStart = times.startedAt;
    await page.getByTestId('restore-button').click();
    await page.waitForFunction((prev) => window.__gendr.startedAt !== prev, previousStart);
    await waitForResult(page, 90_000);
    const streamed = await page.evaluate(() => window.__gendr.tileLog);
    const streamedPartial = streamed.filter((u) => u.done < u.total);
    expect(streamedPartial.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < streamed.length; i++)
      expect(streamed[i].done).toBeGreaterThanOrEqual(streamed[i - 1].done);
    expect(streamed.at(-1)!.done).toBe(streamed.at(-1)!.total);
    const savedNone = (await download(page, 'real-vae-app-none.png')).file;
    const diffNone = maxChannelDiff(await readRgba(savedNone), await readRgba(referenceNone));
    const adainSpread = partialSpread(updates);
    const noneSpread = partialSpread(streamed);
    console.log(
      `colour fix none: ${streamed.length} tile updates, partial ones spread over ${Math.round(noneSpread)} ms ` +
        `(AdaIN: ${Math.round(adainSpread)} ms); max diff vs CLI --color-fix none ${diffNone}/255`,
    );
    expect(diffNone).toBeLessThanOrEqual(3);
    // The AdaIN result differs from the uncorrected one: the choice reached the pipeline.
    expect(maxChannelDiff(await readRgba(savedNone), await readRgba(saved))).toBeGreaterThan(3);
    // Streamed while decoding: a decoder tile row (three 16² latent tiles on WASM) lies between
    // the first band and the last, where AdaIN's blocks all come within a few milliseconds.
    expect(noneSpread).toBeGreaterThanOrEqual(50);
    expect(noneSpread).toBeGreaterThan(4 * adainSpread);
  });
});
