/**
 * Go's `net/url.Parse` (as of Go 1.25) for "http://" and "https://" URLs, with the
 * `net/netip.ParseAddr` it checks bracketed hosts with, and `net.SplitHostPort`: what the kubelet
 * parses image patterns, images and auth keys with. Followed on byte strings (see _go-bytes.ts),
 * and throwing Go's error texts, which the kubelet's own messages embed.
 */

import { _goQuoteBytes } from "./_go-quote.ts";

/**
 * A Go error inside the port. Its message is ordinary text, as Go would print it: byte strings
 * only ever reach it through _goQuoteBytes.
 */
export class _GoError extends Error {}

type _Mode = "path" | "host" | "zone" | "user" | "fragment";

/** The parts of Go's URL the kubelet reads, as byte strings. */
export interface _GoUrl {
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
  return new _GoError(`invalid URL escape ${_goQuoteBytes(bytes)}`);
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
        throw new _GoError(`invalid character ${_goQuoteBytes(s[i] ?? "")} in host name`);
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
    new _GoError(`ParseAddr(${_goQuoteBytes(s)}): ${message}${at ? ` (at ${_goQuoteBytes(at)})` : ""}`);
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
    if (!_validOptionalPort(colonPort))
      throw new _GoError(`invalid port ${_goQuoteBytes(colonPort)} after host`);
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
    if (!_validOptionalPort(colonPort))
      throw new _GoError(`invalid port ${_goQuoteBytes(colonPort)} after host`);
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
export function _parseUrl(raw: string): _GoUrl {
  const hash = raw.indexOf("#");
  const main = hash < 0 ? raw : raw.slice(0, hash);
  let url: _GoUrl;
  try {
    url = _parseAbsolute(main);
  } catch (error) {
    if (error instanceof _GoError) throw new _GoError(`parse ${_goQuoteBytes(main)}: ${error.message}`);
    throw error;
  }
  const fragment = hash < 0 ? "" : raw.slice(hash + 1);
  if (fragment !== "") {
    try {
      _unescape(fragment, "fragment");
    } catch (error) {
      if (error instanceof _GoError) throw new _GoError(`parse ${_goQuoteBytes(raw)}: ${error.message}`);
      throw error;
    }
  }
  return url;
}

/** net.SplitHostPort: undefined where Go returns an error. */
export function _splitHostPort(hostport: string): { host: string; port: string } | undefined {
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
