/** The canvas a restore paints its streamed tiles into. */
import type { TileMessage } from '../../workers/contract/restore-protocol.ts';

export function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/** Paints one tile (its RGBA covers `tile.rect`) and returns the ImageData it painted. */
export function paintTile(canvas: HTMLCanvasElement, tile: TileMessage): ImageData {
  const { rect } = tile;
  const pixels = new ImageData(
    tile.data as Uint8ClampedArray<ArrayBuffer>,
    rect.width,
    rect.height,
  );
  canvas.getContext('2d')?.putImageData(pixels, rect.x, rect.y);
  return pixels;
}

export function clearCanvas(canvas: HTMLCanvasElement): void {
  canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
}

/**
 * `canvas` resized to width x height with the browser's high-quality filter (for output scales
 * below the model's own, as Real-ESRGAN's --outscale resizes its result).
 */
export async function resizeCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
): Promise<HTMLCanvasElement> {
  const bitmap = await createImageBitmap(canvas, {
    resizeWidth: width,
    resizeHeight: height,
    resizeQuality: 'high',
  });
  const out = makeCanvas(width, height);
  out.getContext('2d')?.drawImage(bitmap, 0, 0);
  bitmap.close();
  return out;
}
