/**
 * Bench inputs: square crops of one real photo (shared/images/coffee.png, 600x400, CC0) resized with
 * Lanczos to each size, written as PNG for the page to fetch. Without the shared folder, a smooth
 * synthetic pattern stands in (and the report says so).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { sharedPath } from '../../test/helpers/shared.ts';

export interface BenchInputs {
  source: string;
  /** size -> absolute file path of a size x size RGB PNG. */
  files: Map<number, string>;
}

export async function makeInputs(dir: string, sizes: readonly number[]): Promise<BenchInputs> {
  await mkdir(dir, { recursive: true });
  const photo = sharedPath('images', 'coffee.png');
  const files = new Map<number, string>();
  const haveShared = existsSync(photo);
  for (const size of new Set(sizes)) {
    const file = path.join(dir, `input-${size}.png`);
    const image = haveShared
      ? sharp(photo).extract({ left: 100, top: 0, width: 400, height: 400 })
      : sharp(syntheticRgb(400), { raw: { width: 400, height: 400, channels: 3 } });
    await image.resize(size, size, { kernel: 'lanczos3' }).removeAlpha().png().toFile(file);
    files.set(size, file);
  }
  return {
    source: haveShared
      ? 'coffee.png (scikit-image, CC0), centre 400x400 crop'
      : 'synthetic pattern',
    files,
  };
}

function syntheticRgb(n: number): Buffer {
  const data = Buffer.alloc(n * n * 3);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 3;
      data[i] = 128 + 100 * Math.sin(x / 7) * Math.cos(y / 11);
      data[i + 1] = 128 + 90 * Math.sin((x + y) / 5);
      data[i + 2] = (x * y) % 256;
    }
  }
  return data;
}
