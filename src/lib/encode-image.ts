/** Encodes the result canvas for download (the browser encodes asynchronously, off the hot path). */

export type OutputFormat = 'png' | 'webp' | 'jpeg';

export const OUTPUT_FORMATS: readonly {
  id: OutputFormat;
  label: string;
  mime: string;
  lossy: boolean;
}[] = [
  { id: 'png', label: 'PNG (lossless)', mime: 'image/png', lossy: false },
  { id: 'webp', label: 'WebP', mime: 'image/webp', lossy: true },
  { id: 'jpeg', label: 'JPEG', mime: 'image/jpeg', lossy: true },
];

/** `chelsea.png` restored ×4 as PNG → `chelsea@4x.png`. */
export function outputFileName(sourceName: string, scale: number, format: OutputFormat): string {
  const base = sourceName.replace(/\.[^./\\]+$/, '') || 'image';
  const extension = format === 'jpeg' ? 'jpg' : format;
  return `${base}@${scale}x.${extension}`;
}

export function encodeCanvas(
  canvas: HTMLCanvasElement,
  format: OutputFormat,
  quality: number,
): Promise<Blob> {
  const spec = OUTPUT_FORMATS.find((f) => f.id === format) ?? OUTPUT_FORMATS[0];
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => {
        if (!blob) reject(new Error('The browser could not encode the image.'));
        else if (blob.type !== spec.mime)
          reject(new Error(`This browser cannot save ${spec.label} images.`));
        else resolve(blob);
      },
      spec.mime,
      spec.lossy ? quality : undefined,
    );
  });
}

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
