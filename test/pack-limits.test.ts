import { describe, expect, it } from 'vitest';
import { manifestFor } from '../tools/builder/pack-dir.ts';
import { tinyGendrPack } from '../tools/builder/packs.ts';
import type { PackManifest } from '../engine/latent/manifest.ts';
import {
  DEFAULT_DECODER_TILE,
  DEFAULT_ENCODER_TILE,
  DEFAULT_UNET_TILE,
  resolveTiling,
} from '../engine/latent/tiling-plan.ts';
import {
  MIN_TENSOR_BYTES,
  packDeviceLimits,
  WASM_MAX_TENSOR_BYTES,
} from '../workers/restore/packs/pack-limits.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** A GenDR-shaped pack that states no tiling of its own. */
const manifest: PackManifest = { ...manifestFor(tinyGendrPack()), tiling: undefined };

describe('pack device limits → tile sizes', () => {
  it('takes the smaller of the WebGPU binding and buffer limits', () => {
    const gpu = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };
    expect(packDeviceLimits({ backend: 'webgpu', gpu })).toEqual({ maxBufferBytes: 128 * MiB });
    expect(
      packDeviceLimits({ backend: 'webgpu', gpu: { maxStorageBufferBindingSize: 2 * GiB } }),
    ).toEqual({ maxBufferBytes: 2 * GiB });
  });

  it('leaves the defaults to runPack when WebGPU limits are unknown', () => {
    expect(packDeviceLimits({ backend: 'webgpu', gpu: null })).toBeUndefined();
    expect(packDeviceLimits({ backend: 'webgpu', gpu: { maxBufferSize: 0 } })).toBeUndefined();
    const tiling = resolveTiling(manifest, undefined, undefined);
    expect(tiling.unet.tile).toBe(DEFAULT_UNET_TILE.tile);
    expect(tiling.encoder.tile).toBe(DEFAULT_ENCODER_TILE.tile);
    expect(tiling.decoder.tile).toBe(DEFAULT_DECODER_TILE.tile);
  });

  it('budgets WASM tensors from the memory available, well under 1 GB', () => {
    for (const deviceMemoryGiB of [undefined, null, 0.25, 0.5, 1, 2, 4, 8, 64]) {
      const limits = packDeviceLimits({
        backend: 'wasm',
        deviceMemoryGiB,
        gpu: { maxBufferSize: 8 * GiB },
      });
      expect(limits!.maxBufferBytes).toBeLessThanOrEqual(WASM_MAX_TENSOR_BYTES);
      expect(limits!.maxBufferBytes).toBeGreaterThanOrEqual(MIN_TENSOR_BYTES);
    }
    expect(WASM_MAX_TENSOR_BYTES).toBeLessThanOrEqual(GiB / 2);
    expect(packDeviceLimits({ backend: 'wasm', deviceMemoryGiB: 1 })).toEqual({
      maxBufferBytes: 128 * MiB,
    });
    expect(packDeviceLimits({ backend: 'wasm', deviceMemoryGiB: 8 })).toEqual({
      maxBufferBytes: WASM_MAX_TENSOR_BYTES,
    });
  });

  it('gives smaller tiles on a smaller device, never larger than the defaults for the UNet', () => {
    const small = resolveTiling(
      manifest,
      undefined,
      packDeviceLimits({ backend: 'wasm', deviceMemoryGiB: 1 }),
    );
    const wasm = resolveTiling(manifest, undefined, packDeviceLimits({ backend: 'wasm' }));
    const bigGpu = resolveTiling(
      manifest,
      undefined,
      packDeviceLimits({
        backend: 'webgpu',
        gpu: { maxStorageBufferBindingSize: 4 * GiB, maxBufferSize: 4 * GiB },
      }),
    );
    for (const stage of ['encoder', 'unet', 'decoder'] as const) {
      expect(small[stage].tile).toBeLessThan(wasm[stage].tile);
      expect(wasm[stage].tile).toBeLessThanOrEqual(bigGpu[stage].tile);
      expect(small[stage].overlap).toBeLessThan(small[stage].tile);
    }
    // OSEDiff's 96-pixel UNet tiles where the attention scores fit, smaller on WASM.
    expect(bigGpu.unet.tile).toBe(DEFAULT_UNET_TILE.tile);
    expect(wasm.unet.tile).toBeLessThan(DEFAULT_UNET_TILE.tile);
    expect(wasm.unet.tile % manifest.unet!.sizeMultiple).toBe(0);
    expect(wasm.encoder.tile % manifest.vae.downscaleFactor).toBe(0);
  });

  it('keeps tiles the manifest sets explicitly, whatever the limits', () => {
    const explicit: PackManifest = {
      ...manifest,
      tiling: {
        encoder: { tile: 128, overlap: 16 },
        unet: { tile: 32, overlap: 8 },
        decoder: { tile: 12, overlap: 4 },
      },
    };
    for (const limits of [
      packDeviceLimits({ backend: 'wasm', deviceMemoryGiB: 1 }),
      packDeviceLimits({ backend: 'webgpu', gpu: { maxStorageBufferBindingSize: 4 * GiB } }),
    ]) {
      const tiling = resolveTiling(explicit, undefined, limits);
      expect(tiling.encoder).toEqual({ tile: 128, overlap: 16 });
      expect(tiling.unet).toMatchObject({ tile: 32, overlap: 8 });
      expect(tiling.decoder).toEqual({ tile: 12, overlap: 4 });
    }
  });
});
