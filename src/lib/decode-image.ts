/** Turns a file (picked, dropped or pasted) into an ImageBitmap, with errors in plain words. */

export interface DecodedImage {
  name: string;
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** Something worth telling the user (e.g. only the first frame of an animation is used). */
  note: string | null;
}

/** Raw pixel values, like the command line's decoder: no colour-profile conversion, no premultiplication. */
export const BITMAP_OPTIONS: ImageBitmapOptions = {
  colorSpaceConversion: 'none',
  premultiplyAlpha: 'none',
};

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

export async function decodeImage(file: Blob, name: string): Promise<DecodedImage> {
  if (file.size === 0) throw new ImageDecodeError(`“${name}” is empty.`);
  if (file.type && !file.type.startsWith('image/')) {
    throw new ImageDecodeError(
      `“${name}” is not an image (${file.type}). Try a PNG, JPEG or WebP photo.`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, BITMAP_OPTIONS);
  } catch {
    throw new ImageDecodeError(
      `“${name}” could not be opened as an image: it may be damaged, or in a format this browser cannot read.`,
    );
  }
  const note =
    file.type === 'image/gif' ? 'Animated images: only the first frame is restored.' : null;
  return { name, bitmap, width: bitmap.width, height: bitmap.height, note };
}

/** The first image among dropped or pasted items. */
export function firstImageFile(list: DataTransfer | null): File | null {
  if (!list) return null;
  const files = [...list.files];
  return files.find((f) => f.type.startsWith('image/')) ?? files[0] ?? null;
}
