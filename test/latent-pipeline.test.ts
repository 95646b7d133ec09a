/**
 * The latent pipeline on onnxruntime-node: streaming, cancellation, colour fix and step maths on
 * the tiny GenDR-shaped pack, and proof 2 of the issue on the real TAEF2 VAE with the identity UNet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taesdPack, tinyGendrPack, vaePack, withTestUnet } from '../tools/builder/packs.ts';
import { tinyKlVae } from '../tools/builder/generated/vaes.ts';
import { decodeImage } from '../tools/image-io/decode.ts';
import type { RgbaImage } from '../engine/image.ts';
import { resizePlanar } from '../engine/latent/bicubic.ts';
import { channelStats } from '../engine/latent/color-fix.ts';
import { clampInPlace, planarToRgba, rgbaToPlanar } from '../engine/latent/planar.ts';
import {
  runPack,
  type RunPackOptions,
  type StageReport,
  type TileUpdate,
} from '../engine/latent/pipeline.ts';
import { crop, maxAbsDiff, syntheticPhoto, withEllipseAlpha } from './helpers/rgba-images.ts';
import {
  CHELSEA,
  hasTaef2,
  loadTempPack,
  nodeRuntime,
  psnrRgb,
  taef2Weights,
} from './helpers/latent-packs.ts';
import { hasShared, missingShared, sharedPath } from './helpers/shared.ts';

type Pack = Awaited<ReturnType<typeof loadTempPack>>;

function run(pack: Pack, image: RgbaImage, opts: Partial<RunPackOptions> = {}) {
  return runPack(pack.sessions, pack.manifest, image, {
    tensors: nodeRuntime,
    embeddings: pack.embeddings,
    packInterface: pack.packInterface,
    ...opts,
  });
}

function bicubic(image: RgbaImage, scale: number): RgbaImage {
  const up = resizePlanar(
    rgbaToPlanar(image),
    image.width * scale,
    image.height * scale,
    'bicubic-pil',
  );
  clampInPlace(up.data, 0, 1);
  return planarToRgba(up);
}

/** Every update is in order, inside the image, and together they cover it exactly once. */
function checkStream(updates: TileUpdate[], result: RgbaImage): void {
  const seen = new Uint8Array(result.width * result.height);
  let lastY = 0;
  updates.forEach((u, i) => {
    expect(u.done).toBe(i + 1);
    expect(u.total).toBe(updates.length);
    expect(u.rect.y).toBeGreaterThanOrEqual(lastY);
    lastY = u.rect.y;
    expect(u.data.length).toBe(u.rect.width * u.rect.height * 4);
    for (let y = 0; y < u.rect.height; y++) {
      for (let x = 0; x < u.rect.width; x++) {
        const p = (u.rect.y + y) * result.width + u.rect.x + x;
        seen[p]++;
        for (let c = 0; c < 4; c++)
          expect(u.data[(y * u.rect.width + x) * 4 + c]).toBe(result.data[p * 4 + c]);
      }
    }
  });
  expect(seen.every((v) => v === 1)).toBe(true);
}

describe('latent pipeline on the tiny GenDR-shaped pack', () => {
  let pack: Pack;
  const image = syntheticPhoto(24, 20, 3);
  const tiles = {
    encoder: { tile: 48, overlap: 16 },
    unet: { tile: 8, overlap: 0 },
    decoder: { tile: 6, overlap: 2 },
  };

  beforeAll(async () => {
    pack = await loadTempPack(tinyGendrPack());
  });
  afterAll(async () => pack?.dispose());

  it('streams finished blocks in order, covering the output once, for every colour fix', async () => {
    for (const colorFix of ['adain', 'wavelet', 'none'] as const) {
      const updates: TileUpdate[] = [];
      const stages: StageReport[] = [];
      const progress: number[] = [];
      const out = await run(pack, image, {
        colorFix,
        tiling: tiles,
        onTile: (u) => updates.push(u),
        onStage: (s) => stages.push(s),
        onProgress: (done, total) => progress.push(done / total),
      });
      expect([out.width, out.height]).toEqual([96, 80]);
      expect(updates.length).toBeGreaterThan(1);
      checkStream(updates, out);
      expect(stages.map((s) => s.stage)).toEqual([
        'prepare',
        'encode',
        'unet',
        'decode',
        'colorfix',
      ]);
      expect(stages.find((s) => s.stage === 'encode')?.runs).toBeGreaterThan(1);
      expect(progress.at(-1)).toBe(1);
    }
  });

  it('makes the UNet matter: its step changes the result, and the negative embedding with guidance too', async () => {
    const content = tinyGendrPack();
    const vaeOnly = vaePack(tinyKlVae(16, 'fp32', 7), {
      id: 'tiny-vae',
      name: 'tiny vae',
      licence: 'MIT',
      source: {},
      precision: 'fp32',
      scalingFactor: content.manifest.vae.scalingFactor,
    });
    const identity = await loadTempPack(withTestUnet(vaeOnly, { kind: 'identity' }));
    const noUnet = await loadTempPack(vaeOnly);
    // α = σ = 0.5 and ε = z: the step is the identity, so the output is the VAE round trip (on an
    // image both packs pad alike: ×4 a multiple of 64, the UNet's 8 latent pixels).
    const even = syntheticPhoto(32, 16, 3);
    const viaIdentity = await run(identity, even);
    const viaVae = await run(noUnet, even);
    expect(maxAbsDiff(viaIdentity, viaVae)).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(await run(pack, even), viaVae)).toBeGreaterThan(8);
    const guided = await loadTempPack(
      withTestUnet(vaeOnly, { kind: 'tiny', seed: 1, guidanceScale: 4 }),
    );
    const unguided = await loadTempPack(withTestUnet(vaeOnly, { kind: 'tiny', seed: 1 }));
    expect(maxAbsDiff(await run(guided, image), await run(unguided, image))).toBeGreaterThan(0);
    for (const p of [identity, noUnet, guided, unguided]) await p.dispose();
  });

  it('applies AdaIN against the bicubic upscale by default', async () => {
    const out = await run(pack, image);
    const none = await run(pack, image, { colorFix: 'none' });
    const ref = channelStats(rgbaToPlanar(bicubic(image, 4)));
    const got = channelStats(rgbaToPlanar(out));
    const raw = channelStats(rgbaToPlanar(none));
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(got.mean[c] - ref.mean[c])).toBeLessThan(0.01);
      expect(Math.abs(got.mean[c] - ref.mean[c])).toBeLessThan(Math.abs(raw.mean[c] - ref.mean[c]));
    }
  });

  it('keeps transparency and gray', async () => {
    const transparent = await run(pack, withEllipseAlpha(image));
    expect(transparent.data[3]).toBe(0);
    expect(transparent.data[((40 * 96 + 48) * 4) | 3]).toBe(255);
    const grayImage = syntheticPhoto(16, 16, 5);
    for (let i = 0; i < grayImage.data.length; i += 4)
      grayImage.data[i + 1] = grayImage.data[i + 2] = grayImage.data[i];
    const gray = await run(pack, grayImage);
    for (let i = 0; i < gray.data.length; i += 4) {
      expect(gray.data[i + 1]).toBe(gray.data[i]);
      expect(gray.data[i + 2]).toBe(gray.data[i]);
    }
  });

  it('stops between session runs when aborted', async () => {
    const controller = new AbortController();
    let runs = 0;
    const promise = run(pack, image, {
      tiling: tiles,
      signal: controller.signal,
      onProgress: () => {
        if (++runs === 2) controller.abort(new DOMException('stop', 'AbortError'));
      },
    });
    await expect(promise).rejects.toThrow('stop');
    expect(runs).toBe(2);
  });

  it('gives the same picture from the fp16 pack', async () => {
    const fp16 = await loadTempPack(tinyGendrPack({ precision: 'fp16' }));
    const a = await run(pack, image, { colorFix: 'none' });
    const b = await run(fp16, image, { colorFix: 'none' });
    expect(psnrRgb(a, b)).toBeGreaterThan(30);
    await fp16.dispose();
  });
});

const ready = hasTaef2 && hasShared(...CHELSEA);

describe.skipIf(!ready)('proof 2: TAEF2 with the identity UNet on chelsea.png ×4', () => {
  let pack: Pack;
  let reference: RgbaImage;
  let tiled: RgbaImage;
  let untiled: RgbaImage;
  const updates: TileUpdate[] = [];
  const stages: StageReport[] = [];

  beforeAll(async () => {
    const weights = await taef2Weights();
    // GenDR's step (t = 500, α = σ = 0.5) and a non-trivial scaling and shift, so undoing them is tested.
    const vae = taesdPack(weights, {
      id: 'taef2-identity',
      name: 'TAEF2 + identity UNet',
      precision: 'fp32',
      scalingFactor: 0.3,
      shiftFactor: 0.1,
    });
    pack = await loadTempPack(withTestUnet(vae, { kind: 'identity' }));
    const image = await decodeImage(sharedPath(...CHELSEA));
    reference = bicubic(image, 4);
    tiled = await run(pack, image, {
      onTile: (u) => updates.push(u),
      onStage: (s) => stages.push(s),
    });
    untiled = await run(pack, image, { tiling: 'none' });
  }, 600_000);
  afterAll(async () => pack?.dispose());

  it('tiles every stage and streams the output', () => {
    const runs = Object.fromEntries(stages.map((s) => [s.stage, s.runs]));
    console.log(
      `chelsea ×4 tiled: ${stages.map((s) => `${s.stage} ${s.runs} run(s) ${Math.round(s.ms)} ms`).join(', ')}`,
    );
    expect(runs.encode).toBeGreaterThan(1);
    expect(runs.unet).toBeGreaterThan(1);
    expect(runs.decode).toBeGreaterThan(1);
    checkStream(updates, tiled);
  });

  it('matches the bicubic upscale at ≥ 30 dB and the untiled run at ≥ 40 dB', () => {
    expect([tiled.width, tiled.height]).toEqual([1804, 1200]);
    const vsBicubic = psnrRgb(tiled, reference);
    const vsUntiled = psnrRgb(tiled, untiled);
    console.log(
      `chelsea ×4, TAEF2 + identity UNet: tiled vs bicubic ${vsBicubic.toFixed(2)} dB, untiled vs bicubic ${psnrRgb(untiled, reference).toFixed(2)} dB, tiled vs untiled ${vsUntiled.toFixed(2)} dB`,
    );
    expect(vsBicubic).toBeGreaterThanOrEqual(30);
    expect(vsUntiled).toBeGreaterThanOrEqual(40);
  });
});

if (!ready) it.skip(missingShared(...CHELSEA), () => {});
void crop;
