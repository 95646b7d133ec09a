/** Sizes the app refuses up front, with a reason, instead of crashing the tab. */

/** Browsers cap a canvas side at 16384 px or more; keep under the smallest common cap. */
export const MAX_OUTPUT_SIDE = 16384;
/** RGBA result + canvas + engine buffers: 64 MP is about 1 GB in all. */
export const MAX_OUTPUT_PIXELS = 64 * 1024 * 1024;

export function outputSizeProblem(width: number, height: number, scale: number): string | null {
  const w = width * scale;
  const h = height * scale;
  if (w > MAX_OUTPUT_SIDE || h > MAX_OUTPUT_SIDE || w * h > MAX_OUTPUT_PIXELS) {
    const mp = ((w * h) / 1e6).toFixed(0);
    return (
      `At ×${scale} the result would be ${w} × ${h} pixels (${mp} MP), more than this app can hold ` +
      `(${MAX_OUTPUT_SIDE} px a side, ${MAX_OUTPUT_PIXELS / (1024 * 1024)} MP). Choose a smaller scale or a smaller image.`
    );
  }
  return null;
}
