/**
 * The kubelet's image pattern matching, ported from k8s.io/kubernetes pkg/credentialprovider
 * (`ParseSchemelessURL`, `SplitURL`, `URLsMatch`, `URLsMatchStr`, and `BasicDockerKeyring`'s key
 * normalisation and `Lookup`), with the Go library code it relies on: `net/url.Parse` (as of
 * Go 1.25), `net.SplitHostPort`, `net/netip.ParseAddr` and `path/filepath.Match`.
 *
 * Go strings are byte strings and every one of these functions indexes bytes, so inputs are
 * first turned into "byte strings" (one UTF-16 unit per UTF-8 byte, each 0-255) and the Go code
 * is followed step by step on those. That keeps byte-level quirks identical (a `?` in a glob
 * eats one rune, a `*` may skip into the middle of one, percent-decoding may yield invalid
 * UTF-8) and makes JS string comparison and sorting agree with Go's byte order.
 */

import { CredentialProviderError } from "./errors.ts";

/** A pattern or image parsed as the kubelet parses it: `url.Parse("https://" + value)`. */
export interface SchemelessUrl {
  /** Go's `URL.Host`: host and optional `:port`, userinfo dropped, percent-escapes decoded. */
  host: string;
  /**
   * The host as the kubelet splits it into labels (`SplitURL`): `net.SplitHostPort`'s host when
   * a port is present (brackets of an IPv6 literal removed), otherwise the whole `host` (so an
   * IPv6 literal without a port keeps its brackets).
   */
  hostname: string;
  /** The port as `net.SplitHostPort` finds it, or "" when there is none. */
  port: string;
  /** Go's `URL.Path`: percent-decoded, query and fragment removed; "" when there is no path. */
  path: string;
}

// ---------------------------------------------------------------------------------------------
// Byte strings.

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();
function _isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

function _toBytes(text: string): string {
  if (_isAscii(text)) return text;
  const bytes = _encoder.encode(text);
  let out = "";
  // Chunked so a long string never exceeds the engine's argument-count limit.
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

function _fromBytes(bytes: string): string {
  if (_isAscii(bytes)) return bytes;
  return _decoder.decode(Uint8Array.from(bytes, (char) => char.charCodeAt(0)));
}

const _RUNE_ERROR = 0xfffd;

/** Go's utf8.DecodeRuneInString at offset `at`: [rune, width], (RuneError, 1) when invalid. */
function _decodeRune(bytes: string, at: number): [number, number] {
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

const _PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** strconv.IsPrint, with the engine's Unicode tables standing in for Go's. */
function _isPrint(rune: number): boolean {
  if (rune < 0x7f) return rune >= 0x20;
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

/** strconv.Quote of a byte string, so error texts read exactly as Go prints them. */
function _goQuote(bytes: string): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const [rune, width] = _decodeRune(bytes, i);
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

// ---------------------------------------------------------------------------------------------
// path/filepath.Match (Unix).

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

/** filepath.Match on byte strings: true, false, or undefined for ErrBadPattern. */
function _filepathMatch(pattern: string, name: string): boolean | undefined {
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
    while (p.length > 0) {
      const next = _scanChunk(p);
      p = next.rest;
      if (_matchChunk(next.chunk, "").kind === "bad") return undefined;
    }
    return false;
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
  let p = _toBytes(pattern);
  while (p.length > 0) {
    const next = _scanChunk(p);
    p = next.rest;
    if (_matchChunk(next.chunk, "").kind === "bad") return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// net/url.Parse, for URLs of the form "http://..." or "https://..." only.

/**
 * A Go error inside the port. Its message is ordinary text, as Go would print it: byte strings
 * only ever reach it through _goQuote.
 */
class _GoError extends Error {}

type _Mode = "path" | "host" | "zone" | "user" | "fragment";

interface _GoUrl {
  host: string;
  path: string;
}

function _isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

// What shouldEscape(c, encodeHost) lets through besides letters and digits.
const _HOST_PUNCTUATION = new Set("!$&'()*+,;=:[]<>\"-_.~");

function _hostNeedsEscape(code: number): boolean {
  return !_isAlnum(code) && !_HOST_PUNCTUATION.has(String.fromCharCode(code));
}

function _isHex(char: string | undefined): boolean {
  return char !== undefined && /^[0-9A-Fa-f]$/.test(char);
}

function _escapeError(bytes: string): _GoError {
  return new _GoError(`invalid URL escape ${_goQuote(bytes)}`);
}

/** url.unescape: checks and decodes %XX; host and zone modes also reject characters. */
function _unescape(s: string, mode: _Mode): string {
  let escapes = 0;
  for (let i = 0; i < s.length; ) {
    const code = s.charCodeAt(i);
    if (code === 0x25) {
      escapes++;
      if (i + 2 >= s.length || !_isHex(s[i + 1]) || !_isHex(s[i + 2])) throw _escapeError(s.slice(i, i + 3));
      const triplet = s.slice(i, i + 3);
      const value = Number.parseInt(triplet.slice(1), 16);
      // A host may only %-encode non-ASCII bytes, except %25 before an IPv6 zone (RFC 6874).
      if (mode === "host" && value < 0x80 && triplet !== "%25") throw _escapeError(triplet);
      if (mode === "zone" && triplet !== "%25" && value !== 0x20 && _hostNeedsEscape(value)) {
        throw _escapeError(triplet);
      }
      i += 3;
    } else {
      if ((mode === "host" || mode === "zone") && code < 0x80 && _hostNeedsEscape(code)) {
        throw new _GoError(`invalid character ${_goQuote(s[i] ?? "")} in host name`);
      }
      i++;
    }
  }
  if (escapes === 0) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "%") {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

function _validOptionalPort(colonPort: string): boolean {
  return colonPort === "" || /^:[0-9]*$/.test(colonPort);
}

// ---- net/netip.ParseAddr, needed because Go only accepts a real IPv6 address in brackets.

type _AddrFail = (message: string, at?: string) => _GoError;

function _parseIPv4Fields(s: string, fail: _AddrFail): void {
  let value = 0;
  let position = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const char = s[i] ?? "";
    if (char >= "0" && char <= "9") {
      if (digits === 1 && value === 0) throw fail("IPv4 field has octet with leading zero");
      value = value * 10 + (char.charCodeAt(0) - 0x30);
      digits++;
      if (value > 255) throw fail("IPv4 field has value >255");
    } else if (char === ".") {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") {
        throw fail("IPv4 field must have at least one digit", s.slice(i));
      }
      if (position === 3) throw fail("IPv4 address too long");
      position++;
      value = 0;
      digits = 0;
    } else {
      throw fail("unexpected character", s.slice(i));
    }
  }
  if (position < 3) throw fail("IPv4 address too short");
}

function _parseIPv6(input: string, fail: _AddrFail): void {
  let s = input;
  const percent = s.indexOf("%");
  let zone = "";
  if (percent !== -1) {
    zone = s.slice(percent + 1);
    s = s.slice(0, percent);
    if (zone === "") throw fail("zone must be a non-empty string");
  }
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const char = s[off];
      if (!_isHex(char)) break;
      acc = acc * 16 + Number.parseInt(char ?? "", 16);
      if (off > 3) throw fail("each group must have 4 or less digits", s);
      if (acc > 0xffff) throw fail("IPv6 field has value >=2^16", s);
    }
    if (off === 0) throw fail("each colon-separated field must have at least one digit", s);
    if (s[off] === ".") {
      if (ellipsis < 0 && i !== 12) {
        throw fail("embedded IPv4 address must replace the final 2 fields of the address", s);
      }
      if (i + 4 > 16) throw fail("too many hex fields to fit an embedded IPv4 at the end of the address", s);
      _parseIPv4Fields(s, fail);
      s = "";
      i += 4;
      break;
    }
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":") throw fail("unexpected character, want colon", s);
    if (s.length === 1) throw fail("colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) throw fail("multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) throw fail("trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) throw fail("address string too short");
  } else if (ellipsis >= 0) {
    throw fail("the :: must expand to at least one field of zeros");
  }
}

/** netip.ParseAddr: the address family, or a _GoError with Go's ParseAddr message. */
function _parseAddrFamily(s: string): 4 | 6 {
  const fail: _AddrFail = (message, at) =>
    new _GoError(`ParseAddr(${_goQuote(s)}): ${message}${at ? ` (at ${_goQuote(at)})` : ""}`);
  for (const char of s) {
    if (char === ".") {
      _parseIPv4Fields(s, fail);
      return 4;
    }
    if (char === ":") {
      _parseIPv6(s, fail);
      return 6;
    }
    if (char === "%") throw fail("missing IPv6 address");
  }
  throw fail("unable to parse IP");
}

/** url.parseHost as of Go 1.25: brackets must hold an IPv6 address (CVE-2025-47912). */
function _parseHost(host: string): string {
  const open = host.lastIndexOf("[");
  if (open !== -1) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new _GoError("missing ']' in host");
    // When "]" comes before "[", the "[" lands in colonPort, so this also rules that out.
    const colonPort = host.slice(close + 1);
    if (!_validOptionalPort(colonPort)) throw new _GoError(`invalid port ${_goQuote(colonPort)} after host`);
    const hostname = host.slice(open + 1, close);
    const zone = hostname.indexOf("%25");
    const unescaped =
      zone >= 0
        ? _unescape(hostname.slice(0, zone), "host") + _unescape(hostname.slice(zone), "zone")
        : _unescape(hostname, "host");
    let family: 4 | 6;
    try {
      family = _parseAddrFamily(unescaped);
    } catch (error) {
      if (error instanceof _GoError) throw new _GoError(`invalid host: ${error.message}`);
      throw error;
    }
    if (family === 4) throw new _GoError("invalid IP-literal");
    return `[${unescaped}]${colonPort}`;
  }
  const colon = host.lastIndexOf(":");
  if (colon !== -1) {
    const colonPort = host.slice(colon);
    if (!_validOptionalPort(colonPort)) throw new _GoError(`invalid port ${_goQuote(colonPort)} after host`);
  }
  return _unescape(host, "host");
}

function _validUserinfo(userinfo: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo);
}

function _parseAuthority(authority: string): string {
  const at = authority.lastIndexOf("@");
  const host = _parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at >= 0) {
    // The userinfo is dropped, but Go still rejects a malformed one.
    const userinfo = authority.slice(0, at);
    if (!_validUserinfo(userinfo)) throw new _GoError("net/url: invalid userinfo");
    const colon = userinfo.indexOf(":");
    if (colon < 0) {
      _unescape(userinfo, "user");
    } else {
      _unescape(userinfo.slice(0, colon), "user");
      _unescape(userinfo.slice(colon + 1), "user");
    }
  }
  return host;
}

/** url.parse for a byte string that starts with "http://" or "https://" (no fragment). */
function _parseAbsolute(raw: string): _GoUrl {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) throw new _GoError("net/url: invalid control character in URL");
  }
  let rest = raw.slice(raw.indexOf(":") + 1);
  // Go also sets ForceQuery for a lone trailing "?", but either way the query is cut off here.
  const question = rest.indexOf("?");
  if (question >= 0) rest = rest.slice(0, question);
  // rest starts with "//" (the callers guarantee it), so there is always an authority.
  let authority = rest.slice(2);
  let path = "";
  const slash = authority.indexOf("/");
  if (slash >= 0) {
    path = authority.slice(slash);
    authority = authority.slice(0, slash);
  }
  const host = _parseAuthority(authority);
  return { host, path: _unescape(path, "path") };
}

/** url.Parse, for "http://" and "https://" byte strings; throws _GoError with Go's text. */
function _parseUrl(raw: string): _GoUrl {
  const hash = raw.indexOf("#");
  const main = hash < 0 ? raw : raw.slice(0, hash);
  let url: _GoUrl;
  try {
    url = _parseAbsolute(main);
  } catch (error) {
    if (error instanceof _GoError) throw new _GoError(`parse ${_goQuote(main)}: ${error.message}`);
    throw error;
  }
  const fragment = hash < 0 ? "" : raw.slice(hash + 1);
  if (fragment !== "") {
    try {
      _unescape(fragment, "fragment");
    } catch (error) {
      if (error instanceof _GoError) throw new _GoError(`parse ${_goQuote(raw)}: ${error.message}`);
      throw error;
    }
  }
  return url;
}

// ---------------------------------------------------------------------------------------------
// net.SplitHostPort and the kubelet's matching.

function _splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const last = hostport.lastIndexOf(":");
  if (last < 0) return undefined;
  let host: string;
  let from = 0;
  let closeFrom = 0;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 !== last) return undefined;
    host = hostport.slice(1, end);
    from = 1;
    closeFrom = end + 1;
  } else {
    host = hostport.slice(0, last);
    if (host.includes(":")) return undefined;
  }
  if (hostport.indexOf("[", from) >= 0) return undefined;
  if (hostport.indexOf("]", closeFrom) >= 0) return undefined;
  return { host, port: hostport.slice(last + 1) };
}

/** The kubelet's SplitURL: host labels and port, the whole host when it has no valid port. */
function _splitUrl(host: string): { hostname: string; port: string } {
  const split = _splitHostPort(host);
  return split === undefined ? { hostname: host, port: "" } : { hostname: split.host, port: split.port };
}

/** The kubelet's URLsMatch on two parsed byte-string URLs. */
function _urlsMatch(glob: _GoUrl, target: _GoUrl): boolean {
  const globSplit = _splitUrl(glob.host);
  const targetSplit = _splitUrl(target.host);
  if (globSplit.port !== targetSplit.port) return false;
  const globParts = globSplit.hostname.split(".");
  const targetParts = targetSplit.hostname.split(".");
  if (globParts.length !== targetParts.length) return false;
  // A plain string prefix, not per path segment: "/foo" covers "/foobar".
  if (!target.path.startsWith(glob.path)) return false;
  return globParts.every((part, index) => _filepathMatch(part, targetParts[index] ?? "") === true);
}

function _parseSchemeless(value: string): _GoUrl {
  return _parseUrl(`https://${value}`);
}

/**
 * Parses a scheme-less pattern or image as the kubelet does (`ParseSchemelessURL`, which is
 * Go's `url.Parse("https://" + value)`, then `SplitURL`): `#fragment` and `?query` are
 * dropped, the authority runs to the first `/`, userinfo before the last `@` is dropped, and the
 * port is split off with `net.SplitHostPort`.
 *
 * @throws CredentialProviderError `BAD_REQUEST` with Go's message for what `url.Parse` rejects,
 *   e.g. `parse "https://a b": invalid character " " in host name`.
 */
export function parseSchemelessUrl(value: string): SchemelessUrl {
  let url: _GoUrl;
  try {
    url = _parseSchemeless(_toBytes(value));
  } catch (error) {
    if (error instanceof _GoError) throw new CredentialProviderError("BAD_REQUEST", error.message);
    throw error;
  }
  const { hostname, port } = _splitUrl(url.host);
  return {
    host: _fromBytes(url.host),
    hostname: _fromBytes(hostname),
    port: _fromBytes(port),
    path: _fromBytes(url.path),
  };
}

/**
 * The kubelet's `URLsMatchStr`: whether an image matches a pattern (a `matchImages` entry or a
 * key of a response's `auth` map). Both are parsed as scheme-less URLs; the ports must be equal
 * (a pattern without a port does not match an image with one); the hosts must have the same
 * number of dot-separated labels, each label matched with {@link goFilepathMatch} (so `*` never
 * crosses a dot); and the pattern's path must be a plain string prefix of the image's path.
 * Case-sensitive.
 *
 * @returns `false` for any pattern or image that Go fails to parse or a malformed glob.
 *   Never throws.
 */
export function urlsMatch(pattern: string, image: string): boolean {
  if (typeof pattern !== "string" || typeof image !== "string") return false;
  try {
    return _urlsMatch(_parseSchemeless(_toBytes(pattern)), _parseSchemeless(_toBytes(image)));
  } catch {
    return false;
  }
}

/** BasicDockerKeyring.Add's key normalisation on a byte string; undefined if unparsable. */
function _normalizeKeyBytes(key: string): string | undefined {
  const value = key.startsWith("https://") || key.startsWith("http://") ? key : `https://${key}`;
  let url: _GoUrl;
  try {
    url = _parseUrl(value);
  } catch (error) {
    if (error instanceof _GoError) return undefined;
    throw error;
  }
  // Docker treats /v1/ and /v2/ as the registry itself (ResolveAuthConfig); the kubelet follows.
  let path = url.path;
  if (path.startsWith("/v2/") || path.startsWith("/v1/")) path = path.slice(3);
  return path.length > 0 && path !== "/" ? url.host + path : url.host;
}

/**
 * How the kubelet stores a key of a response's `auth` map (`BasicDockerKeyring.Add`): an
 * `https://` prefix is added unless the key starts with `http://` or `https://`, the result is
 * parsed with Go's `url.Parse`, a path starting `/v1/` or `/v2/` loses those first three
 * characters, and a path of "" or "/" means the host alone.
 *
 * @returns host plus effective path, e.g. `https://quay.io/v1/` → `quay.io`; `undefined` when Go
 *   cannot parse the key (the kubelet logs and ignores such an entry). Never throws.
 */
export function normalizeAuthKey(key: string): string | undefined {
  if (typeof key !== "string") return undefined;
  const normalized = _normalizeKeyBytes(_toBytes(key));
  return normalized === undefined ? undefined : _fromBytes(normalized);
}

/**
 * The kubelet's keyring `Lookup` over an `auth` map: every entry whose normalised key (see
 * {@link normalizeAuthKey}) matches `image` (see {@link urlsMatch}), in the kubelet's order:
 * normalised keys in reverse byte-wise lexicographic order (Go's
 * `sort.Reverse(sort.StringSlice)`), so longer, more specific paths come before their host.
 * Entries that normalise to the same key are kept together, in the map's insertion order (Go
 * ranges over a map, so its order among them is unspecified). Unparsable keys are skipped.
 *
 * @returns the matching entries, each with its original (un-normalised) key. Never throws.
 */
export function lookupAuth<T>(auth: Record<string, T>, image: string): Array<{ key: string; value: T }> {
  if (auth === null || typeof auth !== "object" || typeof image !== "string") return [];
  let target: _GoUrl;
  try {
    target = _parseSchemeless(_toBytes(image));
  } catch {
    return [];
  }
  const groups = new Map<string, Array<{ key: string; value: T }>>();
  for (const [key, value] of Object.entries(auth)) {
    const normalized = _normalizeKeyBytes(_toBytes(key));
    if (normalized === undefined) continue;
    const group = groups.get(normalized);
    if (group === undefined) groups.set(normalized, [{ key, value }]);
    else group.push({ key, value });
  }
  // Byte strings compare by UTF-16 unit, which here is Go's byte order.
  const index = [...groups.keys()].sort().reverse();
  const found: Array<{ key: string; value: T }> = [];
  for (const normalized of index) {
    let glob: _GoUrl;
    try {
      glob = _parseSchemeless(normalized);
    } catch {
      continue;
    }
    if (_urlsMatch(glob, target)) found.push(...(groups.get(normalized) ?? []));
  }
  return found;
}
