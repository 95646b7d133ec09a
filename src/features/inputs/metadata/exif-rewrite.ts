/**
 * The EXIF block for the restored image, edited with piexifjs: the same tags, minus the
 * orientation (the pixels are already upright) and the thumbnail (it shows the old image), with
 * the pixel dimensions set to the result's.
 */
import piexif from 'piexifjs';
import { EXIF_HEADER, fromBinaryString, toBinaryString } from './binary.ts';

/** TIFF bytes in, TIFF bytes out; throws when the block cannot be parsed. */
export function rewriteExif(tiff: Uint8Array, size: { width: number; height: number }): Uint8Array {
  const dict = piexif.load(EXIF_HEADER + toBinaryString(tiff));
  const zeroth = dict['0th'] ?? {};
  delete zeroth[piexif.ImageIFD.Orientation];
  const exif = dict.Exif ?? {};
  if (piexif.ExifIFD.PixelXDimension in exif || piexif.ExifIFD.PixelYDimension in exif) {
    exif[piexif.ExifIFD.PixelXDimension] = size.width;
    exif[piexif.ExifIFD.PixelYDimension] = size.height;
  }
  const dumped = piexif.dump({
    '0th': zeroth,
    Exif: exif,
    GPS: dict.GPS ?? {},
    Interop: dict.Interop ?? {},
  });
  return fromBinaryString(dumped).slice(EXIF_HEADER.length);
}

/** A JPEG with `tiff` as its EXIF APP1 segment (piexif.insert replaces any existing one). */
export function jpegWithExif(jpeg: Uint8Array, tiff: Uint8Array): Uint8Array {
  return fromBinaryString(piexif.insert(EXIF_HEADER + toBinaryString(tiff), toBinaryString(jpeg)));
}
