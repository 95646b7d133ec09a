/**
 * Hostile metadata: a PNG whose iCCP chunk inflates to 2 GiB (2 MB on disk) must open in well
 * under a second with the profile dropped and a notice, in the page's reader and in the command
 * line's decoder; oversized blocks are not re-encoded into a result either.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../src/features/inputs/metadata/image-metadata.ts';
import { inflateCapped, MAX_ICC_BYTES } from '../src/features/inputs/metadata/limits.ts';
import { pngIcc } from '../src/features/inputs/metadata/png-chunks.ts';
import { writeMetadata } from '../src/features/inputs/metadata/write-metadata.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import { iccBombPng, zlibZeros } from './helpers/crafted-inputs.ts';

const GIB = 1 << 30;

let bomb: Uint8Array;

beforeAll(async () => {
  const made = await iccBombPng(16, 12, 2 * GIB);
  bomb = made.bytes;
  // About 2 MB on disk, 2 GiB once inflated.
  expect(made.compressedBytes).toBeLessThan(4 << 20);
}, 120_000);

describe('a PNG with a 2 GiB iCCP profile', () => {
  it('is read in bounded time: the profile is dropped with a notice', async () => {
    const started = performance.now();
    const meta = await readMetadata('png', bomb);
    const ms = performance.now() - started;
    console.log(`readMetadata on the ${bomb.length}-byte bomb: ${ms.toFixed(0)} ms`);
    // Inflating it all takes ~30 s and 2 GiB; stopping at 16 MB takes a few hundred ms (more on
    // a busy CPU).
    expect(ms).toBeLessThan(5000);
    expect(meta.icc).toBeNull();
    expect(meta.dropped).toEqual(['The colour profile is larger than 16 MB: it was left out.']);
  });

  it('gives the event loop a turn while it inflates (no long freeze of the page)', async () => {
    let last = performance.now();
    let longest = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 1);
    try {
      await readMetadata('png', bomb);
    } finally {
      clearInterval(timer);
    }
    longest = Math.max(longest, performance.now() - last);
    console.log(`longest gap between timer turns: ${longest.toFixed(0)} ms over ${ticks} turns`);
    expect(ticks).toBeGreaterThan(1);
    // Inflating it in one go blocks for tens of seconds; slices are ~20 ms (more on a busy CPU).
    expect(longest).toBeLessThan(1000);
  });

  it('stops inflating at the cap, not at the end of the stream', async () => {
    await expect(pngIcc(bomb)).rejects.toThrow(/larger than 16 MB/);
  });

  it('opens in the command line too (the profile is ignored), with its pixels', async () => {
    const started = performance.now();
    const image = await decodeImage(bomb);
    console.log(`CLI decode of the bomb: ${(performance.now() - started).toFixed(0)} ms`);
    expect([image.width, image.height]).toEqual([16, 12]);
    expect([...image.data.subarray(0, 4)]).toEqual([200, 90, 40, 255]);
  });
});

describe('inflateCapped', () => {
  it('returns a stream under the cap whole', async () => {
    const data = await zlibZeros(3 << 20);
    expect((await inflateCapped('x', data, 4 << 20)).length).toBe(3 << 20);
  });

  it('gives up at once when the block header declares more than the cap', async () => {
    const profile = new Uint8Array(64);
    new DataView(profile.buffer).setUint32(0, 0x7fffffff);
    const { zlibSync } = await import('fflate');
    await expect(
      inflateCapped('The colour profile', zlibSync(profile), MAX_ICC_BYTES, {
        declaredSizeAt0: true,
      }),
    ).rejects.toThrow(/larger than 16 MB/);
  });

  it('rejects a truncated stream', async () => {
    const data = await zlibZeros(1 << 20);
    await expect(inflateCapped('x', data.subarray(0, data.length - 8), 4 << 20)).rejects.toThrow();
  });
});

describe('writing oversized metadata into a result', () => {
  it('leaves out blocks over the caps instead of re-encoding them', async () => {
    const result = new Uint8Array(
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
        .png()
        .toBuffer(),
    );
    const started = performance.now();
    const out = writeMetadata(
      result,
      'png',
      { width: 8, height: 8 },
      { exif: new Uint8Array(2 << 20), icc: new Uint8Array(MAX_ICC_BYTES + 1) },
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out.bytes).toBe(result);
    expect(out.kept).toEqual([]);
    expect(out.dropped).toEqual(['EXIF (larger than 1 MB)', 'ICC profile (larger than 16 MB)']);
  });
});
