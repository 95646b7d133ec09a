/**
 * Wide-gamut sources on the command line: a Display P3 JPEG and an Adobe RGB PNG, made from known
 * sRGB pixels, decode back to those sRGB pixels (the embedded profile is applied), and results are
 * written as untagged sRGB. The browser does the same (e2e/inputs-colour-bomb.spec.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../tools/image-io/decode.ts';
import { encodeImage } from '../tools/image-io/encode.ts';
import { adobeRgbProfile, colourChart } from './helpers/crafted-inputs.ts';

const W = 32;
const H = 24;

function maxDiff(a: Uint8ClampedArray, rgb: Buffer): number {
  let max = 0;
  for (let p = 0; p < W * H; p++) {
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(a[p * 4 + c] - rgb[p * 3 + c]));
  }
  return max;
}

async function tagged(profile: string, format: 'jpeg' | 'png'): Promise<Uint8Array> {
  const chart = colourChart(W, H);
  const image = sharp(chart, { raw: { width: W, height: H, channels: 3 } }).withIccProfile(profile);
  const encoded =
    format === 'jpeg'
      ? image.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      : image.png({ compressionLevel: 6 });
  return new Uint8Array(await encoded.toBuffer());
}

describe('wide-gamut sources on the command line', () => {
  const adobe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gendr-colour-')), 'adobe.icc');
  fs.writeFileSync(adobe, adobeRgbProfile());

  for (const [label, profile, format, tolerance] of [
    ['Display P3 JPEG', 'p3', 'jpeg', 6],
    ['Adobe RGB PNG', adobe, 'png', 2],
  ] as const) {
    it(`a ${label} decodes to its sRGB colours, not its stored values`, async () => {
      const file = await tagged(profile, format);
      const chart = colourChart(W, H);
      const meta = await sharp(file).metadata();
      expect(meta.icc?.length).toBeGreaterThan(0);
      // The stored values differ a lot from sRGB (that is what the profile is for)...
      const stored = await sharp(file).keepIccProfile().raw().toBuffer();
      let storedDiff = 0;
      for (let i = 0; i < stored.length; i++) {
        storedDiff = Math.max(storedDiff, Math.abs(stored[i] - chart[i]));
      }
      expect(storedDiff).toBeGreaterThan(40);
      // ...and the decoder gives the sRGB colours back (JPEG adds its own small loss).
      const decoded = await decodeImage(file);
      const diff = maxDiff(decoded.data, chart);
      console.log(`${label}: stored vs sRGB ${storedDiff}, decoded vs sRGB ${diff}`);
      expect(diff).toBeLessThanOrEqual(tolerance);
    });
  }

  it('writes results without a colour profile (untagged sRGB)', async () => {
    const decoded = await decodeImage(await tagged('p3', 'png'));
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const meta = await sharp(await encodeImage(decoded, format)).metadata();
      expect(meta.icc).toBeUndefined();
    }
  });
});
