/**
 * Hand-made inputs for the metadata and colour tests: an Adobe RGB (1998) ICC profile written from
 * its published primaries, and a PNG whose iCCP chunk inflates to gigabytes (a "zip bomb" in the
 * metadata, a few MB on disk).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import sharp from 'sharp';

function s15Fixed16(value: number): number {
  return Math.round(value * 65536) | 0;
}

function xyzTag(x: number, y: number, z: number): Uint8Array {
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('XYZ '));
  view.setInt32(8, s15Fixed16(x));
  view.setInt32(12, s15Fixed16(y));
  view.setInt32(16, s15Fixed16(z));
  return out;
}

function gammaCurve(gamma: number): Uint8Array {
  const out = new Uint8Array(14);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('curv'));
  view.setUint32(8, 1);
  view.setUint16(12, Math.round(gamma * 256));
  return out;
}

/** ICC v2 textDescriptionType: ASCII part only, empty Unicode and ScriptCode parts. */
function descriptionTag(text: string): Uint8Array {
  const ascii = new TextEncoder().encode(text);
  const out = new Uint8Array(12 + ascii.length + 1 + 8 + 3 + 67);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('desc'));
  view.setUint32(8, ascii.length + 1);
  out.set(ascii, 12);
  return out;
}

function textTag(text: string): Uint8Array {
  const ascii = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + ascii.length + 1);
  out.set(new TextEncoder().encode('text'));
  out.set(ascii, 8);
  return out;
}

/**
 * An Adobe RGB (1998) display profile: gamma 563/256 and the D50-adapted colorants Adobe
 * publishes for its own profile. Enough for any matrix/TRC colour engine (lcms, skcms).
 */
export function adobeRgbProfile(): Uint8Array {
  const trc = gammaCurve(563 / 256);
  const tags: [string, Uint8Array][] = [
    ['desc', descriptionTag('Adobe RGB (1998) compatible')],
    ['cprt', textTag('No copyright, test data')],
    ['wtpt', xyzTag(0.9642, 1, 0.8249)],
    ['rXYZ', xyzTag(0.60974, 0.31111, 0.01947)],
    ['gXYZ', xyzTag(0.20528, 0.62567, 0.06087)],
    ['bXYZ', xyzTag(0.14919, 0.06322, 0.74457)],
    ['rTRC', trc],
    ['gTRC', trc],
    ['bTRC', trc],
  ];
  const tableEnd = 128 + 4 + tags.length * 12;
  const offsets: number[] = [];
  let at = tableEnd;
  for (const [, data] of tags) {
    offsets.push(at);
    at += (data.length + 3) & ~3;
  }
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  const put = (offset: number, text: string) => out.set(new TextEncoder().encode(text), offset);
  view.setUint32(0, at);
  view.setUint32(8, 0x02100000);
  put(12, 'mntr');
  put(16, 'RGB ');
  put(20, 'XYZ ');
  view.setUint16(24, 2024);
  view.setUint16(26, 1);
  view.setUint16(28, 1);
  put(36, 'acsp');
  view.setInt32(68, s15Fixed16(0.9642));
  view.setInt32(72, s15Fixed16(1));
  view.setInt32(76, s15Fixed16(0.8249));
  view.setUint32(128, tags.length);
  tags.forEach(([signature, data], i) => {
    put(132 + i * 12, signature);
    view.setUint32(136 + i * 12, offsets[i]);
    view.setUint32(140 + i * 12, data.length);
    out.set(data, offsets[i]);
  });
  return out;
}

/** sRGB colours of the chart's 8x8 patches: primaries, secondaries, skin, sky, grays. */
const PATCHES = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [0, 255, 255],
  [255, 0, 255],
  [255, 255, 0],
  [230, 120, 20],
  [225, 170, 140],
  [90, 150, 220],
  [30, 30, 30],
  [128, 128, 128],
  [245, 245, 245],
];

/**
 * A `width` x `height` RGB (3 channels) chart of flat 8x8 patches (JPEG keeps flat aligned
 * blocks almost exactly), with saturated colours where wide-gamut profiles differ most.
 */
export function colourChart(width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  const across = Math.ceil(width / 8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const patch = PATCHES[(Math.floor(y / 8) * across + Math.floor(x / 8)) % PATCHES.length];
      out.set(patch, (y * width + x) * 3);
    }
  }
  return out;
}

/** zlib stream of `total` zero bytes, compressed piecewise (never holds the inflated bytes). */
export async function zlibZeros(total: number): Promise<Uint8Array> {
  const piece = Buffer.alloc(32 << 20);
  async function* zeros() {
    for (let done = 0; done < total; done += piece.length) {
      yield done + piece.length <= total ? piece : piece.subarray(0, total - done);
    }
  }
  const parts: Buffer[] = [];
  await pipeline(Readable.from(zeros()), zlib.createDeflate({ level: 9 }), async (source) => {
    for await (const chunk of source as AsyncIterable<Buffer>) parts.push(chunk);
  });
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * A small valid PNG (`width` x `height`, opaque colour) with an iCCP chunk whose profile inflates
 * to `inflated` bytes of zeros, put right after IHDR where a profile belongs.
 */
export async function iccBombPng(width: number, height: number, inflated: number) {
  const plain = await sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 90, b: 40 } },
  })
    .png()
    .toBuffer();
  const chunks = extractChunks(new Uint8Array(plain)).filter((c) => c.name !== 'iCCP');
  const name = new TextEncoder().encode('ICC Profile');
  const compressed = await zlibZeros(inflated);
  const data = new Uint8Array(name.length + 2 + compressed.length);
  data.set(name);
  data.set(compressed, name.length + 2);
  chunks.splice(1, 0, { name: 'iCCP', data });
  return { bytes: encodeChunks(chunks), compressedBytes: compressed.length };
}
