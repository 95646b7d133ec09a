/**
 * The manifests' tileMargin (receptive-field radius computed from the graph) against what the
 * models actually do: flip one input pixel and see which output rows change.
 *
 * Sound for every model: no output pixel farther than tileMargin input pixels changes.
 * Tight for RDN (slim, medium): the change reaches exactly tileMargin. For RRDN (thick, radius 154)
 * the influence at the edge of the receptive field underflows float32 long before that, so only
 * soundness can be observed there.
 */
import { describe, expect, it } from 'vitest';
import { esrganModelSpecs } from '../tools/esrgan/catalog.ts';
import { modelFile, readModelIndex } from './helpers/builtin-models.ts';
import { createImageSession, runImageSession } from './helpers/ort-image-model.ts';
import { smoothNoiseImage } from './helpers/test-image.ts';

describe('tileMargin covers the receptive field', () => {
  for (const spec of esrganModelSpecs()) {
    it(spec.id, async () => {
      const manifest = readModelIndex().models.find((m) => m.id === spec.id)!;
      const margin = manifest.tileMargin;
      // Tall and narrow: rows reach margin + 5 beyond the flipped pixel in both directions.
      const height = 2 * margin + 11;
      const width = 9;
      const max = manifest.inputRange[1];
      const image = smoothNoiseImage(width, height, { rangeMax: max, seed: 7 });
      const y0 = Math.floor(height / 2);
      const x0 = Math.floor(width / 2);
      const flipped = { ...image, data: image.data.slice() };
      for (let c = 0; c < 3; c++) {
        const i = (c * height + y0) * width + x0;
        flipped.data[i] = max - flipped.data[i];
      }

      const session = await createImageSession(modelFile(manifest));
      const a = await runImageSession(session, image);
      const b = await runImageSession(session, flipped);
      await session.release();

      let reach = -1;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < a.height; y++) {
          for (let x = 0; x < a.width; x++) {
            const i = (c * a.height + y) * a.width + x;
            if (a.data[i] !== b.data[i])
              reach = Math.max(reach, Math.abs(Math.floor(y / spec.scale) - y0));
          }
        }
      }
      console.log(`${spec.id}: tileMargin ${margin}, observed reach ${reach}`);
      expect(reach).toBeGreaterThan(0);
      expect(reach).toBeLessThanOrEqual(margin);
      if (spec.family.architecture === 'rdn') expect(reach).toBe(margin);
    });
  }
});
