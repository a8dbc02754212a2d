import { describe, expect, it } from "vitest";
import { _byteSorted, _decodeRune, _fromBytes, _RUNE_ERROR, _toBytes } from "./_go-bytes.ts";

describe("byte strings", () => {
  it("hold one unit per UTF-8 byte and read back as the same text", () => {
    const text = "aé☺\u{1f600}";
    const bytes = _toBytes(text);
    expect(bytes).toBe("a\xc3\xa9\xe2\x98\xba\xf0\x9f\x98\x80");
    expect(_fromBytes(bytes)).toBe(text);
  });

  it("decode runes as utf8.DecodeRuneInString, (RuneError, 1) for invalid UTF-8", () => {
    expect(_decodeRune(_toBytes("☺"), 0)).toEqual([0x263a, 3]);
    expect(_decodeRune("\xed\xa0\x80", 0)).toEqual([_RUNE_ERROR, 1]);
    expect(_decodeRune("\xe2\x98", 0)).toEqual([_RUNE_ERROR, 1]);
    expect(_decodeRune("", 0)).toEqual([_RUNE_ERROR, 0]);
  });
});

describe("_byteSorted", () => {
  it("sorts by UTF-8 bytes, where UTF-16 order differs above U+FFFF", () => {
    expect(_byteSorted(["\u{10000}", "\uffff", "b", "a"])).toEqual(["a", "b", "\uffff", "\u{10000}"]);
  });
});
