/** The device budget and the too-large check that runs before anything is decoded. */
import { describe, expect, it } from 'vitest';
import { budgetFrom, CANVAS_MAX_SIDE } from '../src/features/inputs/memory-budget.ts';
import { fittingSize, sizeProblem } from '../src/features/inputs/size-check.ts';

const GiB = 1024 ** 3;

describe('budgetFrom', () => {
  it('takes the smaller of a quarter of device memory and three quarters of the JS heap', () => {
    expect(budgetFrom({ deviceMemoryGiB: 8, jsHeapLimit: 4 * GiB, gpu: null }).bytes).toBe(2 * GiB);
    expect(budgetFrom({ deviceMemoryGiB: 16, jsHeapLimit: 2 * GiB, gpu: null }).bytes).toBe(
      1.5 * GiB,
    );
    // Unknown device memory counts as 4 GB.
    expect(budgetFrom({ deviceMemoryGiB: null, jsHeapLimit: null, gpu: null }).bytes).toBe(GiB);
  });

  it('caps the output at the canvas area and 12 bytes a pixel', () => {
    const small = budgetFrom({ deviceMemoryGiB: 2, jsHeapLimit: null, gpu: null });
    expect(small.maxOutputPixels).toBe(Math.floor((0.5 * GiB) / 12));
    const large = budgetFrom({ deviceMemoryGiB: 64, jsHeapLimit: null, gpu: null });
    expect(large.maxOutputPixels).toBe(268_435_456);
  });
});

describe('sizeProblem', () => {
  const budget = budgetFrom({
    deviceMemoryGiB: 8,
    jsHeapLimit: 4 * GiB,
    gpu: {
      maxBufferSize: 256 * 1024 ** 2,
      maxStorageBufferBindingSize: 128 * 1024 ** 2,
      maxTextureDimension2D: 8192,
    },
  });

  it('lets a normal photo through', () => {
    expect(sizeProblem({ width: 4000, height: 3000 }, 2, budget)).toBeNull();
  });

  it('refuses 12000 x 12000 at x2 with the numbers and where they come from', () => {
    const problem = sizeProblem({ width: 12000, height: 12000 }, 2, budget, '“big.png”');
    expect(problem?.message).toBe(
      '“big.png” is 12000 × 12000 px: at ×2 the result would be 24000 × 24000 px (576 MP, about 6.4 GB in memory), ' +
        'but this device allows at most 16384 px a side and 179 MP (2.0 GB memory budget from 8 GB device memory; ' +
        '4.0 GB JS heap limit; GPU max buffer 256 MB, max texture 8192 px).',
    );
    expect(problem?.downscaleTo).toEqual({ width: 6688, height: 6688 });
    expect(sizeProblem(problem!.downscaleTo!, 2, budget)).toBeNull();
    expect(sizeProblem({ width: 6690, height: 6690 }, 2, budget)).not.toBeNull();
  });

  it('proposes the largest size with the same aspect ratio that fits', () => {
    const fit = fittingSize({ width: 30000, height: 1000 }, 4, budget)!;
    expect(fit.width * 4).toBeLessThanOrEqual(CANVAS_MAX_SIDE);
    expect(fit.width / fit.height).toBeCloseTo(30, 0);
    expect(sizeProblem(fit, 4, budget)).toBeNull();
  });
});
