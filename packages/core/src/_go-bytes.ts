/**
 * Go strings as JS strings. Go strings are byte strings and the Go code ported here indexes bytes,
 * so inputs are first turned into "byte strings" (one UTF-16 unit per UTF-8 byte, each 0-255) and
 * the Go code is followed step by step on those. That keeps byte-level quirks identical (a `?` in a
 * glob eats one rune, a `*` may skip into the middle of one, percent-decoding may yield invalid
 * UTF-8) and makes JS string comparison and sorting agree with Go's byte order.
 */

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();

function _isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Text to its UTF-8 byte string; a lone surrogate becomes U+FFFD, as Go can hold none. */
export function _toBytes(text: string): string {
  if (_isAscii(text)) return text;
  const bytes = _encoder.encode(text);
  let out = "";
  // Chunked so a long string never exceeds the engine's argument-count limit.
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** A byte string back to text; invalid UTF-8 becomes U+FFFD. */
export function _fromBytes(bytes: string): string {
  if (_isAscii(bytes)) return bytes;
  return _decoder.decode(Uint8Array.from(bytes, (char) => char.charCodeAt(0)));
}

/** utf8.RuneError. */
export const _RUNE_ERROR = 0xfffd;

/** Go's utf8.DecodeRuneInString at offset `at`: [rune, width], (RuneError, 1) when invalid. */
export function _decodeRune(bytes: string, at: number): [number, number] {
  const left = bytes.length - at;
  if (left < 1) return [_RUNE_ERROR, 0];
  const b0 = bytes.charCodeAt(at);
  if (b0 < 0x80) return [b0, 1];
  let size: number;
  let low = 0x80;
  let high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    size = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    size = 3;
    if (b0 === 0xe0) low = 0xa0;
    if (b0 === 0xed) high = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    size = 4;
    if (b0 === 0xf0) low = 0x90;
    if (b0 === 0xf4) high = 0x8f;
  } else {
    return [_RUNE_ERROR, 1];
  }
  if (left < size) return [_RUNE_ERROR, 1];
  const b1 = bytes.charCodeAt(at + 1);
  if (b1 < low || b1 > high) return [_RUNE_ERROR, 1];
  if (size === 2) return [((b0 & 0x1f) << 6) | (b1 & 0x3f), 2];
  const b2 = bytes.charCodeAt(at + 2);
  if (b2 < 0x80 || b2 > 0xbf) return [_RUNE_ERROR, 1];
  if (size === 3) return [((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f), 3];
  const b3 = bytes.charCodeAt(at + 3);
  if (b3 < 0x80 || b3 > 0xbf) return [_RUNE_ERROR, 1];
  return [((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f), 4];
}

/**
 * Text sorted as Go sorts strings, by UTF-8 bytes. Plain JS sorting compares UTF-16 units, which
 * differs above U+FFFF; byte strings need no help, as their units are the bytes.
 */
export function _byteSorted(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
