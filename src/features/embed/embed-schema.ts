/**
 * Validation of messages from the embedding page (valibot), with size limits: anything that does
 * not fit is answered with an 'invalid-message' or 'too-large' error, never acted on.
 */
import * as v from 'valibot';
import type { EmbedId, EmbedRequest } from './embed-protocol.ts';

/** The largest encoded image accepted (Blob or ArrayBuffer). */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
/** The largest ImageBitmap side accepted (decoded images are then checked against the device). */
export const MAX_BITMAP_SIDE = 16384;
export const MAX_ID_LENGTH = 200;

const isImageBitmap = (value: unknown): value is ImageBitmap =>
  typeof ImageBitmap !== 'undefined' && value instanceof ImageBitmap;

const Id = v.union([
  v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_ID_LENGTH)),
  v.pipe(v.number(), v.finite()),
]);

const Image = v.union(
  [
    v.pipe(
      v.instance(Blob),
      v.check((b) => b.size > 0, 'the image is empty'),
      v.check((b) => b.size <= MAX_IMAGE_BYTES, 'too-large'),
    ),
    v.pipe(
      v.instance(ArrayBuffer),
      v.check((b) => b.byteLength > 0, 'the image is empty'),
      v.check((b) => b.byteLength <= MAX_IMAGE_BYTES, 'too-large'),
    ),
    v.pipe(
      v.custom<ImageBitmap>(isImageBitmap, 'an ImageBitmap'),
      v.check((b) => b.width > 0 && b.height > 0, 'the image is empty'),
      v.check((b) => b.width <= MAX_BITMAP_SIDE && b.height <= MAX_BITMAP_SIDE, 'too-large'),
    ),
  ],
  'image must be a Blob, an ArrayBuffer or an ImageBitmap',
);

const Options = v.strictObject({
  model: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'a model id'))),
  backend: v.optional(v.picklist(['auto', 'webgpu', 'wasm'])),
  format: v.optional(v.picklist(['png', 'webp', 'jpeg'])),
  quality: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  tiles: v.optional(v.picklist(['none', 'rects', 'pixels'])),
});

export const EmbedRequestSchema = v.variant('type', [
  v.object({ type: v.literal('restore'), id: Id, image: Image, options: v.optional(Options) }),
  v.object({ type: v.literal('cancel'), id: Id }),
  v.object({ type: v.literal('ping') }),
]);

export type ParsedRequest =
  | { ok: true; request: EmbedRequest }
  | { ok: false; id: EmbedId | null; code: 'invalid-message' | 'too-large'; message: string };

/** The id of a message, if it has a usable one (so an error can say which request failed). */
function idOf(data: unknown): EmbedId | null {
  const id = (data as { id?: unknown } | null)?.id;
  return v.is(Id, id) ? id : null;
}

/** Validates one message's data. Messages that are not objects with a `type` return null (ignored). */
export function parseEmbedRequest(data: unknown): ParsedRequest | null {
  if (typeof data !== 'object' || data === null || !('type' in data)) return null;
  const result = v.safeParse(EmbedRequestSchema, data);
  if (result.success) return { ok: true, request: result.output as EmbedRequest };
  const tooLarge = result.issues.some((issue) => issue.message === 'too-large');
  const text = result.issues
    .map((issue) => `${v.getDotPath(issue) ?? 'message'}: ${issue.message}`)
    .join('; ');
  return {
    ok: false,
    id: idOf(data),
    code: tooLarge ? 'too-large' : 'invalid-message',
    message: tooLarge
      ? `The image is too large: at most ${MAX_IMAGE_BYTES / (1024 * 1024)} MB encoded, or ${MAX_BITMAP_SIDE} px a side.`
      : `The message is not valid: ${text}`,
  };
}
