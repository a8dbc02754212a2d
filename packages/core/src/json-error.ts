/**
 * Where a JSON text goes wrong, in the project's own words. The runtime's `JSON.parse` message
 * differs between Node (V8: "... in JSON at position 38", quoting the text, which may hold a
 * token) and Bun (JavaScriptCore: no position at all), so error messages never use it: they call
 * this after `JSON.parse` has thrown.
 */

export interface JsonErrorLocation {
  /** UTF-8 bytes before the first character no JSON document can have there (the end, when cut short). */
  byte: number;
  /** 1-based line and column (in characters) of that place. */
  line: number;
  column: number;
}

/** Deeper than this, the location is not worth the stack: undefined, and the caller says no more. */
const _MAX_DEPTH = 512;

/**
 * The place in `text` where JSON (RFC 8259) first fails, or undefined when the whole text is one
 * valid JSON value or nests deeper than anything worth locating.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const at = _firstError(text);
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const newline = before.lastIndexOf("\n");
  return {
    byte: Buffer.byteLength(before, "utf8"),
    line: before.split("\n").length,
    column: at - newline,
  };
}

/** The index of the first offending character, by a recursive descent over the grammar. */
function _firstError(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new _Stop(i);
  };
  const skipSpace = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r"))
      i++;
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) fail();
    i++;
  };
  const isDigit = (at: number, from = 0x30) => {
    const code = text.charCodeAt(at);
    return code >= from && code <= 0x39;
  };
  const digits = (atLeastOne: boolean) => {
    const start = i;
    while (isDigit(i)) i++;
    if (atLeastOne && i === start) fail();
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= text.length) fail();
      const ch = text[i];
      if (ch === '"') {
        i++;
        return;
      }
      if (text.charCodeAt(i) < 0x20) fail();
      if (ch !== "\\") {
        i++;
        continue;
      }
      i++;
      const escaped = text[i];
      if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) {
        i++;
      } else if (escaped === "u") {
        i++;
        for (let n = 0; n < 4; n++) {
          if (!/^[0-9a-fA-F]$/.test(text[i] ?? "")) fail();
          i++;
        }
      } else {
        fail();
      }
    }
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (isDigit(i, 0x31)) digits(false);
    else fail();
    if (text[i] === ".") {
      i++;
      digits(true);
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits(true);
    }
  };
  const value = (depth: number): void => {
    if (depth > _MAX_DEPTH) throw new _TooDeep();
    skipSpace();
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      const close = ch === "{" ? "}" : "]";
      i++;
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (close === "}") {
          skipSpace();
          string();
          skipSpace();
          expect(":");
        }
        value(depth + 1);
        skipSpace();
        if (text[i] === ",") {
          i++;
          continue;
        }
        expect(close);
        return;
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    if (ch === "-" || isDigit(i)) {
      number();
      return;
    }
    const word = ch === "t" ? "true" : ch === "f" ? "false" : ch === "n" ? "null" : undefined;
    if (word === undefined) fail();
    for (const letter of word as string) expect(letter);
  };
  try {
    value(0);
    skipSpace();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof _Stop) return error.index;
    if (error instanceof _TooDeep) return undefined;
    throw error;
  }
}

class _Stop {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}
class _TooDeep {}
