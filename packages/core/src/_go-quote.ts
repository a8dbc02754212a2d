/**
 * Go's strconv.Quote (`%q`), so error texts read exactly as Go prints them. The one port serves
 * the URL parser, which quotes byte strings, and the config, which quotes text.
 */

import { _decodeRune, _RUNE_ERROR, _toBytes } from "./_go-bytes.ts";

const _PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** strconv.IsPrint, with the engine's Unicode tables standing in for Go's. */
function _isPrint(rune: number): boolean {
  if (rune < 0x7f) return rune >= 0x20;
  // Latin-1 is decided without the tables, as Go does: U+00A0 is a space and U+00AD a format mark.
  if (rune <= 0xff) return rune >= 0xa1 && rune !== 0xad;
  return _PRINTABLE.test(String.fromCodePoint(rune));
}

const _NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x0c, "\\f"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x09, "\\t"],
  [0x0b, "\\v"],
]);

function _hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}

/** strconv.Quote of a byte string (see _go-bytes.ts); the result is ordinary text. */
export function _goQuoteBytes(bytes: string): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const [rune, width] = _decodeRune(bytes, i);
    // A byte that starts no valid UTF-8 sequence is shown as itself, not as U+FFFD.
    if (width === 1 && rune === _RUNE_ERROR) {
      out += `\\x${_hex(bytes.charCodeAt(i), 2)}`;
      i++;
      continue;
    }
    i += width;
    if (rune === 0x22 || rune === 0x5c) {
      out += `\\${String.fromCharCode(rune)}`;
    } else if (_isPrint(rune)) {
      out += String.fromCodePoint(rune);
    } else {
      const named = _NAMED_ESCAPES.get(rune);
      if (named !== undefined) out += named;
      else if (rune < 0x20 || rune === 0x7f) out += `\\x${_hex(rune, 2)}`;
      else if (rune < 0x10000) out += `\\u${_hex(rune, 4)}`;
      else out += `\\U${_hex(rune, 8)}`;
    }
  }
  return `${out}"`;
}

/**
 * strconv.Quote of text, as Go quotes the same text held as UTF-8. A lone surrogate, which no Go
 * string can hold (encoding/json decodes one as U+FFFD), prints as U+FFFD.
 */
export function _goQuote(text: string): string {
  return _goQuoteBytes(_toBytes(text));
}
