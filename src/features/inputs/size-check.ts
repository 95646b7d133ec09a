/**
 * Refuses, before anything is decoded, an image whose result would not fit the device's budget,
 * and proposes the largest size (same aspect ratio) that does.
 */
import {
  BYTES_PER_OUTPUT_PIXEL,
  describeBasis,
  formatMegapixels,
  formatMiB,
  type MemoryBudget,
} from './memory-budget.ts';

export interface Size {
  width: number;
  height: number;
}

export interface SizeProblem {
  /** The whole explanation, with the numbers. */
  message: string;
  /** The largest input size that fits at this scale, or null if nothing sensible does. */
  downscaleTo: Size | null;
}

/** The largest size with the same aspect ratio whose ×scale result fits the budget. */
export function fittingSize(size: Size, scale: number, budget: MemoryBudget): Size | null {
  const bySide = Math.min(
    budget.maxSide / (size.width * scale),
    budget.maxSide / (size.height * scale),
  );
  const byArea = Math.sqrt(budget.maxOutputPixels / (size.width * size.height * scale * scale));
  const factor = Math.min(1, bySide, byArea);
  const width = Math.floor(size.width * factor);
  const height = Math.floor(size.height * factor);
  return width >= 1 && height >= 1 ? { width, height } : null;
}

export function sizeProblem(
  size: Size,
  scale: number,
  budget: MemoryBudget,
  name = 'This image',
): SizeProblem | null {
  const w = size.width * scale;
  const h = size.height * scale;
  const pixels = w * h;
  const tooWide = w > budget.maxSide || h > budget.maxSide;
  const tooMany = pixels > budget.maxOutputPixels;
  if (!tooWide && !tooMany) return null;
  const need = formatMiB(pixels * BYTES_PER_OUTPUT_PIXEL);
  const limits = `at most ${budget.maxSide} px a side and ${formatMegapixels(budget.maxOutputPixels)} (${formatMiB(budget.bytes)} memory budget from ${describeBasis(budget)})`;
  const downscaleTo = fittingSize(size, scale, budget);
  return {
    message:
      `${name} is ${size.width} × ${size.height} px: at ×${scale} the result would be ${w} × ${h} px ` +
      `(${formatMegapixels(pixels)}, about ${need} in memory), but this device allows ${limits}.`,
    downscaleTo,
  };
}
