/**
 * A JSON syntax check with Go's encoding/json error texts, and the duplicate fields that the
 * kubelet's strict decoder (sigs.k8s.io/json) reports. `JSON.parse` gives neither: its messages
 * are V8's, and it keeps the last of two equal keys without a word.
 *
 * Go checks the whole input before decoding anything, so a log line before or after the JSON
 * document fails here, with the text the kubelet logs (`invalid character 'I' looking for
 * beginning of value`, `invalid character '{' after top-level value`).
 */

/** The result of {@link scanJson}. */
export type JsonScan = { ok: true; value: unknown; duplicateFields: string[] } | { ok: false; error: string };

class _SyntaxError extends Error {}

const _END = "unexpected end of JSON input";
// Go's scanner refuses deeper nesting.
const _MAX_DEPTH = 10_000;

/** Go's quoteChar: how a scanner error names the offending character. */
function _quoteChar(char: string): string {
  if (char === "'") return "'\\''";
  if (char === '"') return "'\"'";
  const named: Record<string, string> = {
    "\u0007": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\u000b": "\\v",
    "\\": "\\\\",
  };
  const code = char.codePointAt(0) ?? 0;
  const shown =
    named[char] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : char);
  return `'${shown}'`;
}

/** Paths as sigs.k8s.io/json prints them: `auth.registry.io.username`, `items[0]`. */
function _path(segments: readonly (string | number)[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

interface _Frame {
  kind: "object" | "array";
  /** start: just opened; key: a key is due; after: a member or element just ended. */
  state: "start" | "key" | "after";
  keys: Set<string>;
  /** The current key (object) or index (array). */
  at: string | number;
}

/** An iterative scanner, so that no nesting Go accepts can overflow the stack. */
class _Scanner {
  readonly duplicates: string[] = [];
  #text: string;
  #at = 0;
  #stack: _Frame[] = [];

  constructor(text: string) {
    this.#text = text;
  }

  run(): void {
    this.#beginValue();
    while (this.#stack.length > 0) {
      const top = this.#stack.at(-1) as _Frame;
      this.#space();
      const char = this.#peek();
      if (top.kind === "object") {
        if (top.state === "start" && char === "}") {
          this.#close();
        } else if (top.state === "start" || top.state === "key") {
          this.#member(top);
        } else if (char === "}") {
          this.#close();
        } else if (char === ",") {
          this.#at++;
          top.state = "key";
        } else {
          this.#fail("after object key:value pair");
        }
      } else if (top.state === "start" && char === "]") {
        this.#close();
      } else if (top.state === "start") {
        this.#beginValue();
      } else if (char === "]") {
        this.#close();
      } else if (char === ",") {
        this.#at++;
        top.at = (top.at as number) + 1;
        this.#beginValue();
      } else {
        this.#fail("after array element");
      }
    }
    this.#space();
    if (this.#at < this.#text.length) this.#fail("after top-level value");
  }

  #peek(): string | undefined {
    return this.#text[this.#at];
  }

  #fail(context: string): never {
    const char = this.#peek();
    if (char === undefined) throw new _SyntaxError(_END);
    throw new _SyntaxError(`invalid character ${_quoteChar(char)} ${context}`);
  }

  #space(): void {
    while (this.#at < this.#text.length && " \t\r\n".includes(this.#text[this.#at] as string)) this.#at++;
  }

  #close(): void {
    this.#at++;
    this.#stack.pop();
  }

  /** A key, its colon, and the start of its value. */
  #member(frame: _Frame): void {
    if (this.#peek() !== '"') this.#fail("looking for beginning of object key string");
    const start = this.#at;
    this.#string();
    const key = JSON.parse(this.#text.slice(start, this.#at)) as string;
    frame.at = key;
    if (frame.keys.has(key)) this.duplicates.push(_path(this.#stack.map((f) => f.at)));
    frame.keys.add(key);
    this.#space();
    if (this.#peek() !== ":") this.#fail("after object key");
    this.#at++;
    this.#beginValue();
  }

  /** Reads a scalar whole, or opens a container; either way the enclosing one is then "after". */
  #beginValue(): void {
    this.#space();
    const parent = this.#stack.at(-1);
    if (parent !== undefined) parent.state = "after";
    const char = this.#peek();
    if (char === "{" || char === "[") {
      if (this.#stack.length >= _MAX_DEPTH) this.#fail("exceeded max depth");
      this.#at++;
      this.#stack.push({ kind: char === "{" ? "object" : "array", state: "start", keys: new Set(), at: 0 });
    } else if (char === '"') this.#string();
    else if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) this.#number();
    else if (char === "t") this.#literal("true");
    else if (char === "f") this.#literal("false");
    else if (char === "n") this.#literal("null");
    else this.#fail("looking for beginning of value");
  }

  #string(): void {
    this.#at++; // "
    for (;;) {
      const char = this.#peek();
      if (char === undefined) this.#fail("in string literal");
      if (char === '"') {
        this.#at++;
        return;
      }
      if (char < " ") this.#fail("in string literal");
      if (char === "\\") {
        this.#at++;
        const escaped = this.#peek();
        if (escaped === undefined || !'"\\/bfnrtu'.includes(escaped)) this.#fail("in string escape code");
        this.#at++;
        if (escaped === "u") {
          for (let i = 0; i < 4; i++) {
            if (!/^[0-9a-fA-F]$/.test(this.#peek() ?? "")) this.#fail("in \\u hexadecimal character escape");
            this.#at++;
          }
        }
        continue;
      }
      this.#at++;
    }
  }

  #digits(): number {
    const start = this.#at;
    while (/^[0-9]$/.test(this.#peek() ?? "")) this.#at++;
    return this.#at - start;
  }

  #number(): void {
    if (this.#peek() === "-") {
      this.#at++;
      if (!/^[0-9]$/.test(this.#peek() ?? "")) this.#fail("in numeric literal");
    }
    if (this.#peek() === "0") this.#at++;
    else this.#digits();
    if (this.#peek() === ".") {
      this.#at++;
      if (this.#digits() === 0) this.#fail("after decimal point in numeric literal");
    }
    if (this.#peek() === "e" || this.#peek() === "E") {
      this.#at++;
      if (this.#peek() === "+" || this.#peek() === "-") this.#at++;
      if (this.#digits() === 0) this.#fail("in exponent of numeric literal");
    }
  }

  #literal(word: string): void {
    this.#at++;
    for (const expected of word.slice(1)) {
      if (this.#peek() !== expected) this.#fail(`in literal ${word} (expecting ${_quoteChar(expected)})`);
      this.#at++;
    }
  }
}

/**
 * Checks `text` as Go's json.Unmarshal does before decoding (one JSON value, whitespace around it
 * allowed) and lists repeated object keys by path.
 *
 * @returns the parsed value and the duplicate fields, or Go's syntax error text. Never throws.
 */
export function scanJson(text: string): JsonScan {
  const scanner = new _Scanner(text);
  try {
    scanner.run();
  } catch (error) {
    if (error instanceof _SyntaxError) return { ok: false, error: error.message };
    throw error;
  }
  return { ok: true, value: JSON.parse(text), duplicateFields: scanner.duplicates };
}
