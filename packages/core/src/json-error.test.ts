import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { locateJsonError } from "./json-error.ts";

const valid = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe("locateJsonError", () => {
  it.each([
    ['{"kind": "CredentialProviderRequest", x}', { byte: 38, line: 1, column: 39 }],
    ['{"kind": "Credent', { byte: 17, line: 1, column: 18 }],
    ['{"a":1}garbage', { byte: 7, line: 1, column: 8 }],
    ["", { byte: 0, line: 1, column: 1 }],
    ['{\n  "a": 1,\n  "b": tru\n}', { byte: 22, line: 3, column: 11 }],
    ['{"é": 01}', { byte: 8, line: 1, column: 8 }],
    ['["\\x"]', { byte: 3, line: 1, column: 4 }],
    ['["\\u12g4"]', { byte: 6, line: 1, column: 7 }],
    ['["a\tb"]', { byte: 3, line: 1, column: 4 }],
    ["[1,]", { byte: 3, line: 1, column: 4 }],
    ["-", { byte: 1, line: 1, column: 2 }],
    ["1.e5", { byte: 2, line: 1, column: 3 }],
  ])("%j fails at %j", (text, where) => {
    expect(valid(text)).toBe(false);
    expect(locateJsonError(text)).toEqual(where);
  });

  it("finds nothing wrong in valid JSON, and says no more about JSON nested past 512 levels", () => {
    for (const text of ['{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"]}', " 0 ", '""', "[[[]]]"]) {
      expect(locateJsonError(text)).toBeUndefined();
    }
    expect(locateJsonError(`${"[".repeat(100_000)}`)).toBeUndefined();
  });

  it("agrees with JSON.parse on what is valid, and never quotes the text", () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      fc
        .tuple(fc.json(), fc.nat(), fc.constantFrom("x", ",", "}", "]", '"', "\\", "\u0001", " "))
        .map(([j, at, ch]) => j.slice(0, at % (j.length + 1)) + ch + j.slice(at % (j.length + 1))),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        const where = locateJsonError(text);
        expect(where === undefined).toBe(valid(text));
        if (where) {
          expect(where.byte).toBeLessThanOrEqual(Buffer.byteLength(text));
          expect(Object.keys(where).sort()).toEqual(["byte", "column", "line"]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
