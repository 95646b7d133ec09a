/**
 * SVG files are rasterised at their intrinsic size (the root element's absolute width and
 * height), on the main thread through an <img>, which runs no scripts and loads nothing external.
 * An SVG without an intrinsic size is refused with the reason.
 */
import { ImageDecodeError } from './file-kind.ts';
import { svgEntityProblem, svgProlog } from './svg-prolog.ts';

const UNITS: Record<string, number> = {
  '': 1,
  px: 1,
  in: 96,
  cm: 96 / 2.54,
  mm: 96 / 25.4,
  pt: 96 / 72,
  pc: 16,
};

function length(value: string | undefined): number | null {
  const m = value
    ? /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*(px|in|cm|mm|pt|pc)?\s*$/i.exec(value)
    : null;
  if (!m) return null;
  const px = Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()];
  return px > 0 ? Math.round(px) : null;
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}\\s*=\\s*(["'])(.*?)\\1`, 'i').exec(tag)?.[2];
}

/** The intrinsic size declared by the root <svg> element, or an explanation of why there is none. */
export function svgIntrinsicSize(text: string): { width: number; height: number } | string {
  const prolog = svgProlog(text);
  const body = prolog ? text.slice(prolog.root) : text;
  if (prolog) {
    const problem = svgEntityProblem(prolog.subset, body);
    if (problem) return problem;
  }
  const tag = /<svg[\s>/][^>]*>/i.exec(body)?.[0];
  if (!tag) return 'it has no <svg> element';
  const w = attribute(tag, 'width');
  const h = attribute(tag, 'height');
  const width = length(w);
  const height = length(h);
  if (width && height) return { width, height };
  if (!w && !h) return 'its <svg> element sets no width and height, so it has no intrinsic size';
  return `its width/height (${w ?? 'none'} × ${h ?? 'none'}) are not absolute lengths`;
}

export async function rasterizeSvg(
  file: Blob,
  name: string,
  size: { width: number; height: number },
): Promise<ImageBitmap> {
  const url = URL.createObjectURL(new Blob([file], { type: 'image/svg+xml' }));
  try {
    const image = new Image(size.width, size.height);
    image.src = url;
    await image.decode().catch(() => {
      throw new ImageDecodeError(`“${name}” is an SVG file the browser could not render.`);
    });
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    canvas.getContext('2d')?.drawImage(image, 0, 0, size.width, size.height);
    return await createImageBitmap(canvas, { premultiplyAlpha: 'none' });
  } finally {
    URL.revokeObjectURL(url);
  }
}
