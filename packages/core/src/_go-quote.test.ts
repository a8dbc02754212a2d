import { describe, expect, it } from "vitest";
import { _toBytes } from "./_go-bytes.ts";
import { _goQuote, _goQuoteBytes } from "./_go-quote.ts";

describe("_goQuote (Go's strconv quotetests)", () => {
  it.each([
    ["\x07\b\f\r\n\t\v", '"\\a\\b\\f\\r\\n\\t\\v"'],
    ["\\", '"\\\\"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["\u263a", '"☺"'],
    ["\u{10ffff}", '"\\U0010ffff"'],
    ["\x04", '"\\x04"'],
    // Graphic but not printable: Go escapes every space but the ASCII one.
    ["!\u00a0!\u2000!\u3000!", '"!\\u00a0!\\u2000!\\u3000!"'],
    ["\x7f", '"\\x7f"'],
    ["\u0085\u00ad\u200b", '"\\u0085\\u00ad\\u200b"'],
    ["é\u{1f600}", '"é\u{1f600}"'],
  ])("quotes %j as %s", (text, quoted) => {
    expect(_goQuote(text)).toBe(quoted);
  });

  it("prints a lone surrogate as U+FFFD, as no Go string can hold one", () => {
    expect(_goQuote("a\ud800b")).toBe('"a\ufffdb"');
  });

  it("shows each byte of invalid UTF-8 in a byte string as \\x", () => {
    expect(_goQuoteBytes("abc\xffdef")).toBe('"abc\\xffdef"');
    expect(_goQuoteBytes("\xed\xa0\x80")).toBe('"\\xed\\xa0\\x80"');
    expect(_goQuoteBytes(_toBytes("☺"))).toBe('"☺"');
  });
});
