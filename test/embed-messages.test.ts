/** The embed API's gatekeeping: which origins are heard, and which messages are acted on. */
import { describe, expect, it, vi } from 'vitest';
import {
  isAllowedOrigin,
  normaliseOrigin,
  parseOriginList,
} from '../src/features/embed/embed-config.ts';
import { MAX_IMAGE_BYTES, parseEmbedRequest } from '../src/features/embed/embed-schema.ts';

describe('allowed origins', () => {
  const self = 'https://gendr.example';

  it('allows only the page’s own origin by default', () => {
    const config = { allowedOrigins: new Set<string>(), allowedPacks: new Set<string>() };
    expect(isAllowedOrigin(self, config, self)).toBe(true);
    expect(isAllowedOrigin('https://other.example', config, self)).toBe(false);
    expect(isAllowedOrigin('null', config, self)).toBe(false);
  });

  it('allows listed origins exactly, normalised; * allows all but opaque ones', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const listed = parseOriginList([
      'https://shop.example/',
      'http://localhost:4198/path?x',
      'not an origin',
      42,
    ]);
    expect(listed).toEqual(['https://shop.example', 'http://localhost:4198']);
    const config = { allowedOrigins: new Set(listed), allowedPacks: new Set<string>() };
    expect(isAllowedOrigin('https://shop.example', config, self)).toBe(true);
    expect(isAllowedOrigin('http://localhost:4198', config, self)).toBe(true);
    expect(isAllowedOrigin('http://localhost:4199', config, self)).toBe(false);
    expect(isAllowedOrigin('https://shop.example.evil.test', config, self)).toBe(false);
    expect(isAllowedOrigin('http://shop.example', config, self)).toBe(false);
    const all = {
      allowedOrigins: new Set([normaliseOrigin('*')!]),
      allowedPacks: new Set<string>(),
    };
    expect(isAllowedOrigin('https://anyone.example', all, self)).toBe(true);
    expect(isAllowedOrigin('null', all, self)).toBe(false);
  });
});

describe('embed messages', () => {
  const png = new Blob([new Uint8Array(100)], { type: 'image/png' });

  it('accepts a restore with a Blob or an ArrayBuffer, a cancel and a ping', () => {
    expect(parseEmbedRequest({ type: 'restore', id: 'a', image: png })).toMatchObject({
      ok: true,
    });
    expect(
      parseEmbedRequest({
        type: 'restore',
        id: 7,
        image: new ArrayBuffer(8),
        options: {
          model: 'esrgan-slim-x2',
          backend: 'wasm',
          format: 'webp',
          quality: 0.8,
          tiles: 'rects',
        },
      }),
    ).toMatchObject({ ok: true, request: { id: 7, options: { tiles: 'rects' } } });
    expect(parseEmbedRequest({ type: 'cancel', id: 'a' })).toMatchObject({ ok: true });
    expect(parseEmbedRequest({ type: 'ping' })).toMatchObject({ ok: true });
  });

  it('ignores what is not a message of this API', () => {
    expect(parseEmbedRequest('hello')).toBeNull();
    expect(parseEmbedRequest(null)).toBeNull();
    expect(parseEmbedRequest({ source: 'react-devtools' })).toBeNull();
  });

  it('rejects bad messages with the reason and the id', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'restore', id: 'x', image: 'data:image/png;base64,AAAA' }, /image/],
      [{ type: 'restore', id: 'x', image: png, options: { colour: 'blue' } }, /colour/],
      [{ type: 'restore', id: 'x', image: png, options: { model: '../../etc' } }, /model/],
      [{ type: 'restore', id: 'x', image: png, options: { quality: 2 } }, /quality/],
      [{ type: 'restore', id: 'x', image: new Blob([]) }, /empty/],
      [{ type: 'restore', id: '', image: png }, /id/],
      [{ type: 'launch-missiles', id: 'x' }, /type/],
    ];
    for (const [message, reason] of cases) {
      const parsed = parseEmbedRequest(message);
      expect(parsed, JSON.stringify(message)).toMatchObject({ ok: false, code: 'invalid-message' });
      if (parsed && !parsed.ok) expect(parsed.message).toMatch(reason);
    }
    const bad = parseEmbedRequest({ type: 'restore', id: 'x', image: 'nope' });
    expect(bad).toMatchObject({ ok: false, id: 'x' });
    expect(parseEmbedRequest({ type: 'restore', id: { evil: true }, image: 'nope' })).toMatchObject(
      {
        ok: false,
        id: null,
      },
    );
  });

  it('refuses images over the size limit as too-large', () => {
    const parsed = parseEmbedRequest({
      type: 'restore',
      id: 1,
      image: new ArrayBuffer(MAX_IMAGE_BYTES + 1),
    });
    expect(parsed).toMatchObject({ ok: false, code: 'too-large', id: 1 });
  });
});
