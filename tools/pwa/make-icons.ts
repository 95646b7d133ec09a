/**
 * Draws the app's PWA icons (public/icons/*.png) from the logo: run after changing the logo with
 * `npx tsx tools/pwa/make-icons.ts`. The PNGs are committed; the build does not run this.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const out = fileURLToPath(new URL('../../public/icons', import.meta.url));

/** The logo on a rounded square ('any') or full-bleed with the logo in the safe zone ('maskable'). */
export function iconSvg(purpose: 'any' | 'maskable'): string {
  const background =
    purpose === 'any'
      ? '<rect width="512" height="512" rx="112" fill="#4f46e5"/>'
      : '<rect width="512" height="512" fill="#4f46e5"/>';
  // Maskable icons may be cropped to a circle of 80% of the size: keep the logo inside it.
  const scale = purpose === 'any' ? 1 : 0.72;
  const offset = (512 * (1 - scale)) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">${background}<g transform="translate(${offset} ${offset}) scale(${scale})"><path d="M256 80 432 256 256 432 80 256z" fill="#fff" opacity=".9"/><path d="M256 160 352 256 256 352 160 256z" fill="#4f46e5"/></g></svg>`;
}

const ICONS: { file: string; size: number; purpose: 'any' | 'maskable' }[] = [
  { file: 'icon-192.png', size: 192, purpose: 'any' },
  { file: 'icon-512.png', size: 512, purpose: 'any' },
  { file: 'maskable-512.png', size: 512, purpose: 'maskable' },
  { file: 'apple-touch-icon.png', size: 180, purpose: 'maskable' },
];

await mkdir(out, { recursive: true });
await writeFile(path.join(out, 'icon.svg'), `${iconSvg('any')}\n`);
for (const icon of ICONS) {
  await sharp(Buffer.from(iconSvg(icon.purpose)))
    .resize(icon.size, icon.size)
    .png({ compressionLevel: 9 })
    .toFile(path.join(out, icon.file));
}
console.log(`wrote ${ICONS.length + 1} icons to ${out}`);
