/** The batch's ZIP of results: unique names, stored bytes intact (read back with fflate). */
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { uniqueNames, zipResults } from '../src/features/batch/zip-results.ts';

describe('zipResults', () => {
  it('gives repeated names a number', () => {
    expect(uniqueNames(['a@2x.png', 'b@2x.png', 'a@2x.png', 'a@2x.png', 'noext'])).toEqual([
      'a@2x.png',
      'b@2x.png',
      'a@2x (2).png',
      'a@2x (3).png',
      'noext',
    ]);
  });

  it('packs every result byte for byte', async () => {
    const one = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const two = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const zip = await zipResults([
      { name: 'one@2x.png', blob: new Blob([one]), modified: Date.UTC(2024, 0, 1) },
      { name: 'one@2x.png', blob: new Blob([two]), modified: Date.UTC(2024, 0, 2) },
    ]);
    expect(zip.type).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    expect(Object.keys(entries)).toEqual(['one@2x.png', 'one@2x (2).png']);
    expect(entries['one@2x.png']).toEqual(one);
    expect(entries['one@2x (2).png']).toEqual(two);
  });
});
