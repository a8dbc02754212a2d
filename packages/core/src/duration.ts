/**
 * Go's `time.Duration` text form: `time.ParseDuration` and `Duration.String`, reproduced exactly.
 *
 * The kubelet reads `defaultCacheDuration` and a response's `cacheDuration` with Go's parser and
 * prints durations with Go's formatter, so a provider that accepts or prints a duration must agree
 * with Go to the nanosecond, including its int64 limits and its error texts.
 */

import { CredentialProviderError } from "./errors.ts";

const _NANOS_PER_SECOND = 1_000_000_000n;
const _INT64_MAX = (1n << 63n) - 1n;
const _INT64_MIN = -(1n << 63n);
// Go accumulates into a uint64 and only rejects above 1<<63, so that -9223372036854775808ns parses.
const _UINT_LIMIT = 1n << 63n;

// Go's unitMap: both micro signs are accepted, U+00B5 (micro sign) and U+03BC (Greek mu).
const _UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n],
  ["\u03bcs", 1_000n],
  ["ms", 1_000_000n],
  ["s", _NANOS_PER_SECOND],
  ["m", 60n * _NANOS_PER_SECOND],
  ["h", 3600n * _NANOS_PER_SECOND],
]);

const _encoder = new TextEncoder();
const _HEX = "0123456789abcdef";

/**
 * Go's time package quotes with its own small `quote`, not strconv.Quote: every byte of a
 * non-ASCII or control character is written as `\xNN`. Reproduced so error texts match Go's.
 */
function _quote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x80 || code < 0x20) {
      for (const byte of _encoder.encode(char)) {
        out += `\\x${_HEX[byte >> 4]}${_HEX[byte & 0xf]}`;
      }
    } else {
      if (char === '"' || char === "\\") out += "\\";
      out += char;
    }
  }
  return `${out}"`;
}

function _invalid(original: string): CredentialProviderError {
  return new CredentialProviderError("BAD_REQUEST", `time: invalid duration ${_quote(original)}`);
}

function _isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}

/** Go's leadingInt: consumes [0-9]*; undefined on overflow past 1<<63. */
function _leadingInt(text: string): { value: bigint; rest: string } | undefined {
  let value = 0n;
  let i = 0;
  for (; i < text.length && _isDigit(text[i]); i++) {
    if (value > _UINT_LIMIT / 10n) return undefined;
    value = value * 10n + BigInt(text.charCodeAt(i) - 48);
    if (value > _UINT_LIMIT) return undefined;
  }
  return { value, rest: text.slice(i) };
}

/**
 * Go's leadingFraction: consumes [0-9]* after a '.', and on overflow keeps consuming digits but
 * stops gaining precision. `scale` is a float64 in Go, and JS numbers are the same float64.
 */
function _leadingFraction(text: string): { value: bigint; scale: number; rest: string } {
  let value = 0n;
  let scale = 1;
  let overflow = false;
  let i = 0;
  for (; i < text.length && _isDigit(text[i]); i++) {
    if (overflow) continue;
    if (value > _INT64_MAX / 10n) {
      overflow = true;
      continue;
    }
    const next = value * 10n + BigInt(text.charCodeAt(i) - 48);
    if (next > _UINT_LIMIT) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  return { value, scale, rest: text.slice(i) };
}

/**
 * Parses a Go duration string (`time.ParseDuration`) into integer nanoseconds.
 *
 * Accepts an optional sign followed by one or more `number unit` pieces, where the number may
 * have a fraction (`1.5h`, `.5s`) and the unit is one of `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`,
 * `h`; or the bare string `0` (with an optional sign). The result must fit Go's int64.
 *
 * @throws CredentialProviderError `BAD_REQUEST` with Go's own message, e.g.
 *   `time: invalid duration "1.h5"`, `time: missing unit in duration "5"`,
 *   `time: unknown unit "d" in duration "1d"`.
 */
export function parseDurationNanos(text: string): bigint {
  const original = text;
  let rest = text;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") throw _invalid(original);

  let total = 0n;
  while (rest !== "") {
    const first = rest[0];
    if (first !== "." && !_isDigit(first)) throw _invalid(original);

    const before = rest.length;
    const integer = _leadingInt(rest);
    if (integer === undefined) throw _invalid(original);
    rest = integer.rest;
    const hadInteger = before !== rest.length;

    let fraction = 0n;
    let scale = 1;
    let hadFraction = false;
    if (rest.startsWith(".")) {
      rest = rest.slice(1);
      const afterDot = rest.length;
      const parsed = _leadingFraction(rest);
      fraction = parsed.value;
      scale = parsed.scale;
      rest = parsed.rest;
      hadFraction = afterDot !== rest.length;
    }
    // A piece needs a digit on one side of the dot: ".s" is not a number.
    if (!hadInteger && !hadFraction) throw _invalid(original);

    // The unit runs to the next digit or dot. Go scans bytes, but a multi-byte character never
    // contains an ASCII byte, so scanning UTF-16 units stops at the same places.
    let end = 0;
    while (end < rest.length && rest[end] !== "." && !_isDigit(rest[end])) end++;
    if (end === 0) {
      throw new CredentialProviderError("BAD_REQUEST", `time: missing unit in duration ${_quote(original)}`);
    }
    const unitText = rest.slice(0, end);
    rest = rest.slice(end);
    const unit = _UNITS.get(unitText);
    if (unit === undefined) {
      throw new CredentialProviderError(
        "BAD_REQUEST",
        `time: unknown unit ${_quote(unitText)} in duration ${_quote(original)}`,
      );
    }

    let value = integer.value;
    if (value > _UINT_LIMIT / unit) throw _invalid(original);
    value *= unit;
    if (fraction > 0n) {
      // Go computes this in float64 and truncates; the same float64 steps give the same nanosecond.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > _UINT_LIMIT) throw _invalid(original);
    }
    total += value;
    if (total > _UINT_LIMIT) throw _invalid(original);
  }

  if (negative) return -total;
  if (total > _INT64_MAX) throw _invalid(original);
  return total;
}

/**
 * Parses a Go duration string into seconds, as a JS number. Same grammar and errors as
 * {@link parseDurationNanos}; precision beyond a float64 is lost only for very long durations.
 *
 * @throws CredentialProviderError `BAD_REQUEST` for text Go would reject.
 */
export function parseDuration(text: string): number {
  const nanos = parseDurationNanos(text);
  // Split so whole seconds stay exact and only the sub-second part is divided.
  return Number(nanos / _NANOS_PER_SECOND) + Number(nanos % _NANOS_PER_SECOND) / 1e9;
}

/** Reports whether Go's `time.ParseDuration` would accept the text. Never throws. */
export function isValidDuration(text: string): boolean {
  try {
    parseDurationNanos(text);
    return true;
  } catch {
    return false;
  }
}

/** Go's fmtFrac: the fraction digits of value/10**precision, trailing zeros (and dot) dropped. */
function _formatFraction(value: bigint, precision: number): { text: string; rest: bigint } {
  let digits = "";
  let printing = false;
  let rest = value;
  for (let i = 0; i < precision; i++) {
    const digit = rest % 10n;
    printing = printing || digit !== 0n;
    if (printing) digits = digit.toString() + digits;
    rest /= 10n;
  }
  return { text: printing ? `.${digits}` : "", rest };
}

/**
 * Formats integer nanoseconds as Go's `Duration.String` does: `1h2m3.5s`, `1.5s`, `300ms`,
 * `1.2µs` (U+00B5), `7ns`, `0s`, `-5m0s`. Hours are the largest unit, as in Go.
 *
 * @throws CredentialProviderError `BAD_REQUEST` if `ns` is outside Go's int64 range.
 */
export function formatDurationNanos(ns: bigint): string {
  if (ns < _INT64_MIN || ns > _INT64_MAX) {
    throw new CredentialProviderError("BAD_REQUEST", `duration ${ns}ns is outside Go's int64 range`);
  }
  const negative = ns < 0n;
  // Go negates as uint64, which is why int64 min needs no special case; bigint has no wrap at all.
  let u = negative ? -ns : ns;
  let text: string;
  if (u < _NANOS_PER_SECOND) {
    if (u === 0n) return "0s";
    let unit: string;
    let precision: number;
    if (u < 1_000n) {
      unit = "ns";
      precision = 0;
    } else if (u < 1_000_000n) {
      unit = "\u00b5s";
      precision = 3;
    } else {
      unit = "ms";
      precision = 6;
    }
    const fraction = _formatFraction(u, precision);
    text = `${fraction.rest}${fraction.text}${unit}`;
  } else {
    const fraction = _formatFraction(u, 9);
    u = fraction.rest;
    text = `${u % 60n}${fraction.text}s`;
    u /= 60n;
    if (u > 0n) {
      text = `${u % 60n}m${text}`;
      u /= 60n;
      // Go stops at hours because days are not all the same length.
      if (u > 0n) text = `${u}h${text}`;
    }
  }
  return negative ? `-${text}` : text;
}

/**
 * Formats a duration given in seconds as Go's `Duration.String` does, after rounding to whole
 * nanoseconds (half away from zero), e.g. `90` → `1m30s`, `0.3` → `300ms`.
 *
 * @throws CredentialProviderError `BAD_REQUEST` if `seconds` is not finite or does not fit
 *   Go's int64 nanoseconds (about ±292 years).
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    throw new CredentialProviderError("BAD_REQUEST", `duration ${seconds} seconds is not a finite number`);
  }
  // Whole seconds and the fraction are converted apart so large values keep nanosecond accuracy.
  const sign = seconds < 0 ? -1n : 1n;
  const magnitude = Math.abs(seconds);
  const whole = Math.trunc(magnitude);
  const nanos = BigInt(whole) * _NANOS_PER_SECOND + BigInt(Math.round((magnitude - whole) * 1e9));
  return formatDurationNanos(sign * nanos);
}
