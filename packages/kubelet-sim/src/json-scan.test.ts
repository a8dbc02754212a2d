import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scanJson } from "./json-scan.ts";

const error = (text: string) => {
  const scan = scanJson(text);
  return scan.ok ? undefined : scan.error;
};

describe("scanJson: Go's encoding/json syntax errors", () => {
  it.each([
    ["", "unexpected end of JSON input"],
    ["   ", "unexpected end of JSON input"],
    ['{"a":', "unexpected end of JSON input"],
    ["I1122 log line\n{}", "invalid character 'I' looking for beginning of value"],
    ["{}\n{}", "invalid character '{' after top-level value"],
    ["{} done", "invalid character 'd' after top-level value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ["{a:1}", "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ["[1 2]", "invalid character '2' after array element"],
    ["[1,]", "invalid character ']' looking for beginning of value"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12G4"', "invalid character 'G' in \\u hexadecimal character escape"],
    ["-x", "invalid character 'x' in numeric literal"],
    ["1.e5", "invalid character 'e' after decimal point in numeric literal"],
    ["1e+", "unexpected end of JSON input"],
    ["1ex", "invalid character 'x' in exponent of numeric literal"],
    ["tru", "unexpected end of JSON input"],
    ["nul!", "invalid character '!' in literal null (expecting 'l')"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ["\u0000", "invalid character '\\x00' looking for beginning of value"],
  ])("%j", (text, message) => {
    expect(error(text)).toBe(message);
  });

  it("accepts whitespace around one document", () => {
    expect(scanJson(' \n\t{"a":[1,-2.5e3,true,false,null,"\\u00e9"]}\r\n')).toEqual({
      ok: true,
      value: { a: [1, -2500, true, false, null, "é"] },
      duplicateFields: [],
    });
  });

  it("finds duplicate fields by path", () => {
    const scan = scanJson('{"a":1,"b":{"c":1,"c":2},"a":3,"d":[{"e":1,"e":1}]}');
    expect(scan.ok && scan.duplicateFields).toEqual(["b.c", "a", "d[0].e"]);
  });

  it("refuses nesting deeper than Go does, without overflowing the stack", () => {
    expect(error(`${"[".repeat(10_001)}${"]".repeat(10_001)}`)).toBe(
      "invalid character '[' exceeded max depth",
    );
    expect(scanJson(`${"[".repeat(10_000)}${"]".repeat(10_000)}`).ok).toBe(true);
  });

  it("agrees with JSON.parse on what is JSON", () => {
    const texts = fc.oneof(
      fc.json(),
      fc.string(),
      fc.tuple(fc.json(), fc.nat(), fc.string({ maxLength: 3 })).map(([json, at, insert]) => {
        const cut = at % (json.length + 1);
        return json.slice(0, cut) + insert + json.slice(cut);
      }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(scanJson(text).ok).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});
