/**
 * Turns a file (picked, dropped or pasted) into an ImageBitmap, with errors in plain words.
 * The work is done by src/features/inputs (formats, size limits, orientation, metadata).
 */
export {
  BITMAP_OPTIONS,
  decodeInput as decodeImage,
  ImageTooLargeError,
  type DecodedImage,
  type DecodeOptions,
} from '../features/inputs/decode-input.ts';
export { ImageDecodeError } from '../features/inputs/file-kind.ts';

/** The first image among dropped or pasted items. */
export function firstImageFile(list: DataTransfer | null): File | null {
  if (!list) return null;
  const files = [...list.files];
  return files.find((f) => f.type.startsWith('image/')) ?? files[0] ?? null;
}

/** Every file among dropped or pasted items (the batch queue takes them all). */
export function allFiles(list: DataTransfer | null): File[] {
  return list ? [...list.files] : [];
}
