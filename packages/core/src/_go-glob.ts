/**
 * Go's `path/filepath.Match` (Unix), which the kubelet matches each host label with. Followed on
 * byte strings (see _go-bytes.ts), so a `?` eats one rune and a `*` may stop inside one, as in Go.
 */

import { _decodeRune, _RUNE_ERROR, _toBytes } from "./_go-bytes.ts";

type _ChunkResult = { kind: "match"; rest: string } | { kind: "fail" } | { kind: "bad" };

const _FAIL: _ChunkResult = { kind: "fail" };
const _BAD: _ChunkResult = { kind: "bad" };

function _scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === "*") {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      // A trailing backslash is left for matchChunk to report as a bad pattern.
      if (i + 1 < p.length) i++;
    } else if (c === "[") {
      inRange = true;
    } else if (c === "]") {
      inRange = false;
    } else if (c === "*" && !inRange) {
      break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** getEsc: one possibly-escaped rune of a character class; undefined for a bad pattern. */
function _getEsc(chunk: string): { rune: number; rest: string } | undefined {
  if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") return undefined;
  let c = chunk;
  if (c[0] === "\\") {
    c = c.slice(1);
    if (c.length === 0) return undefined;
  }
  const [rune, width] = _decodeRune(c, 0);
  if (rune === _RUNE_ERROR && width === 1) return undefined;
  const rest = c.slice(width);
  if (rest.length === 0) return undefined;
  return { rune, rest };
}

/**
 * matchChunk: whether `chunk` (no stars) matches the start of `s`. After a mismatch it keeps
 * parsing the chunk without reading `s`, as Go does, so a malformed class is always reported.
 */
function _matchChunk(chunk: string, s: string): _ChunkResult {
  let c = chunk;
  let t = s;
  let failed = false;
  while (c.length > 0) {
    if (!failed && t.length === 0) failed = true;
    const head = c[0];
    if (head === "[") {
      let rune = 0;
      if (!failed) {
        const [r, width] = _decodeRune(t, 0);
        rune = r;
        t = t.slice(width);
      }
      c = c.slice(1);
      let negated = false;
      if (c.length > 0 && c[0] === "^") {
        negated = true;
        c = c.slice(1);
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (c.length > 0 && c[0] === "]" && ranges > 0) {
          c = c.slice(1);
          break;
        }
        const lo = _getEsc(c);
        if (lo === undefined) return _BAD;
        c = lo.rest;
        let hi = lo.rune;
        if (c[0] === "-") {
          const upper = _getEsc(c.slice(1));
          if (upper === undefined) return _BAD;
          hi = upper.rune;
          c = upper.rest;
        }
        if (lo.rune <= rune && rune <= hi) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (head === "?") {
      if (!failed) {
        if (t[0] === "/") failed = true;
        t = t.slice(_decodeRune(t, 0)[1]);
      }
      c = c.slice(1);
    } else {
      if (head === "\\") {
        c = c.slice(1);
        if (c.length === 0) return _BAD;
      }
      if (!failed) {
        if (c[0] !== t[0]) failed = true;
        t = t.slice(1);
      }
      c = c.slice(1);
    }
  }
  return failed ? _FAIL : { kind: "match", rest: t };
}

/** Whether no chunk of `pattern` is malformed, which Go checks even after a match has failed. */
function _isWellFormed(pattern: string): boolean {
  let p = pattern;
  while (p.length > 0) {
    const next = _scanChunk(p);
    p = next.rest;
    if (_matchChunk(next.chunk, "").kind === "bad") return false;
  }
  return true;
}

/** filepath.Match on byte strings: true, false, or undefined for ErrBadPattern. */
export function _filepathMatch(pattern: string, name: string): boolean | undefined {
  let p = pattern;
  let n = name;
  chunks: while (p.length > 0) {
    const scanned = _scanChunk(p);
    const { star, chunk } = scanned;
    p = scanned.rest;
    if (star && chunk === "") return !n.includes("/");
    const here = _matchChunk(chunk, n);
    // The last chunk must consume the whole name; otherwise a star may still find a later match.
    if (here.kind === "match" && (here.rest.length === 0 || p.length > 0)) {
      n = here.rest;
      continue;
    }
    if (here.kind === "bad") return undefined;
    if (star) {
      // Go skips byte by byte, so a star can stop inside a multi-byte rune.
      for (let i = 0; i < n.length && n[i] !== "/"; i++) {
        const later = _matchChunk(chunk, n.slice(i + 1));
        if (later.kind === "match") {
          if (p.length === 0 && later.rest.length > 0) continue;
          n = later.rest;
          continue chunks;
        }
        if (later.kind === "bad") return undefined;
      }
    }
    // A failed match still reports a malformed remainder, as Go does.
    return _isWellFormed(p) ? false : undefined;
  }
  return n.length === 0;
}

/**
 * Go's `path/filepath.Match` (Unix): `*` matches any run of non-`/` characters, `?` one
 * non-`/` character, `[...]` a character class with ranges and `^` negation, and `\` escapes the
 * next character. Matching is case-sensitive and covers the whole name.
 *
 * @returns whether `name` matches; `false` for a malformed pattern (Go's `ErrBadPattern`), such
 *   as `[`, `[]a]`, `[a-` or a trailing `\`. Never throws.
 */
export function goFilepathMatch(pattern: string, name: string): boolean {
  return _filepathMatch(_toBytes(pattern), _toBytes(name)) === true;
}

/**
 * Reports whether `pattern` is well-formed for {@link goFilepathMatch}, i.e. Go's
 * `filepath.Match` would never answer it with `ErrBadPattern`. Never throws.
 */
export function isValidGlob(pattern: string): boolean {
  return _isWellFormed(_toBytes(pattern));
}
