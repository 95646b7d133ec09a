/**
 * The one way errors become text for users, on the page and in the workers. onnxruntime's
 * WebAssembly code sometimes throws bare numbers (C++ exception pointers), which mean nothing to
 * a user; those become a plain phrase.
 */
const INTERNAL = 'an internal error in the runtime';

/** The whole message of an error (or of a thrown string). */
export function errorText(error: unknown): string {
  const text =
    error instanceof Error ? error.message : typeof error === 'string' ? error : String(error);
  const trimmed = text.trim();
  return trimmed && !/^\d+$/.test(trimmed) ? trimmed : INTERNAL;
}

/** The first line of an error's message, short enough for a notice. */
export function errorLine(error: unknown, maxLength = 240): string {
  const line = errorText(error).split('\n')[0].trim().slice(0, maxLength);
  return line && !/^\d+$/.test(line) ? line : INTERNAL;
}
