/** Fetching the bench inputs once and handing out fresh ImageBitmaps (they are transferred). */
const blobs = new Map<string, Promise<Blob>>();

export function imageBlob(url: string): Promise<Blob> {
  let blob = blobs.get(url);
  if (!blob) {
    blob = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.blob();
    });
    blobs.set(url, blob);
  }
  return blob;
}

export async function imageBitmap(url: string): Promise<ImageBitmap> {
  return createImageBitmap(await imageBlob(url));
}

export async function imageElement(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = URL.createObjectURL(await imageBlob(url));
  await img.decode();
  return img;
}
