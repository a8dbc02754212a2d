import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatDuration,
  formatDurationNanos,
  isValidDuration,
  parseDuration,
  parseDurationNanos,
} from "./duration.ts";
import { CredentialProviderError } from "./errors.ts";

interface GoDurationVectors {
  format: Array<{ seconds: number; text: string }>;
  parseOk: Array<{ text: string; seconds: number }>;
  parseError: string[];
}

const vectors = (
  JSON.parse(readFileSync(new URL("../../../testdata/vectors/protocol.json", import.meta.url), "utf8")) as {
    goDuration: GoDurationVectors;
  }
).goDuration;

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("testdata vectors: goDuration", () => {
  it.each(vectors.format)("formats $seconds seconds as $text", ({ seconds, text }) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each(vectors.parseOk)("parses $text as $seconds seconds", ({ text, seconds }) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(isValidDuration(text)).toBe(true);
  });

  it.each(vectors.parseError.map((text) => ({ text, shown: JSON.stringify(text) })))(
    "rejects $shown",
    ({ text }) => {
      const error = errorOf(() => parseDurationNanos(text));
      expect(error).toBeInstanceOf(CredentialProviderError);
      expect((error as CredentialProviderError).code).toBe("BAD_REQUEST");
      expect(isValidDuration(text)).toBe(false);
    },
  );
});

// Cases from Go's time package tests (parseDurationTests, durationTests).
describe("parseDurationNanos (Go's parseDurationTests)", () => {
  const ok: Array<[string, bigint]> = [
    ["0", 0n],
    ["5s", 5_000_000_000n],
    ["30s", 30_000_000_000n],
    ["1478s", 1_478_000_000_000n],
    ["-5s", -5_000_000_000n],
    ["+5s", 5_000_000_000n],
    ["-0", 0n],
    ["+0", 0n],
    ["5.0s", 5_000_000_000n],
    ["5.6s", 5_600_000_000n],
    ["5.s", 5_000_000_000n],
    [".5s", 500_000_000n],
    ["1.0s", 1_000_000_000n],
    ["1.00s", 1_000_000_000n],
    ["1.004s", 1_004_000_000n],
    ["1.0040s", 1_004_000_000n],
    ["100.00100s", 100_001_000_000n],
    ["10ns", 10n],
    ["11us", 11_000n],
    ["12µs", 12_000n],
    ["12μs", 12_000n],
    ["13ms", 13_000_000n],
    ["14s", 14_000_000_000n],
    ["15m", 900_000_000_000n],
    ["16h", 57_600_000_000_000n],
    ["3h30m", 12_600_000_000_000n],
    ["10.5s4m", 250_500_000_000n],
    ["-2m3.4s", -123_400_000_000n],
    ["1h2m3s4ms5us6ns", 3_723_004_005_006n],
    ["39h9m14.425s", 140_954_425_000_000n],
    ["52763797000ns", 52_763_797_000n],
    ["0.3333333333333333333h", 1_200_000_000_000n],
    ["9007199254740993ns", 9_007_199_254_740_993n],
    ["9223372036854775807ns", INT64_MAX],
    ["9223372036854775.807us", INT64_MAX],
    ["9223372036s854ms775us807ns", INT64_MAX],
    ["-9223372036854775808ns", INT64_MIN],
    ["-9223372036854775.808us", INT64_MIN],
    ["-9223372036s854ms775us808ns", INT64_MIN],
    ["-2562047h47m16.854775808s", INT64_MIN],
    ["0.100000000000000000000h", 360_000_000_000n],
    ["0.830103483285477580700h", 2_988_372_539_827n],
    ["1.5h", 5_400_000_000_000n],
    ["1h1m1s", 3_661_000_000_000n],
    ["100ns", 100n],
    ["3µs", 3_000n],
    ["3μs", 3_000n],
  ];
  it.each(ok.map(([text, nanos]) => ({ text, nanos })))("parses $text", ({ text, nanos }) => {
    expect(parseDurationNanos(text)).toBe(nanos);
  });

  const invalid = [
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "\x85\x85",
    "\xffff",
    "hello \xffff world",
    "9223372036854775808ns",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
    "-9223372036854775809ns",
    "9223372036854775808",
    "18446744073709551616ns",
    "3000000h",
  ];
  it.each(invalid.map((text) => ({ text, shown: JSON.stringify(text) })))("rejects $shown", ({ text }) => {
    expect(() => parseDurationNanos(text)).toThrow(CredentialProviderError);
  });

  it("uses Go's message texts and Go's time.quote", () => {
    expect(() => parseDurationNanos("")).toThrow('time: invalid duration ""');
    expect(() => parseDurationNanos("1.h5")).toThrow('time: missing unit in duration "1.h5"');
    expect(() => parseDurationNanos("1h.")).toThrow('time: invalid duration "1h."');
    expect(() => parseDurationNanos("5")).toThrow('time: missing unit in duration "5"');
    expect(() => parseDurationNanos("1d")).toThrow('time: unknown unit "d" in duration "1d"');
    expect(() => parseDurationNanos("1hh")).toThrow('time: unknown unit "hh" in duration "1hh"');
    expect(() => parseDurationNanos("9223372036854775808ns")).toThrow(
      'time: invalid duration "9223372036854775808ns"',
    );
    // Go's time.quote writes every byte of a non-ASCII or control character as \xNN.
    expect(() => parseDurationNanos("3é")).toThrow(
      'time: unknown unit "\\xc3\\xa9" in duration "3\\xc3\\xa9"',
    );
    expect(() => parseDurationNanos('1"\\')).toThrow('time: unknown unit "\\"\\\\" in duration "1\\"\\\\"');
    expect(() => parseDurationNanos("\n1s")).toThrow('time: invalid duration "\\x0a1s"');
  });

  it("parses to seconds", () => {
    expect(parseDuration("1.5h")).toBe(5400);
    expect(parseDuration(".5s")).toBe(0.5);
    expect(parseDuration("-1ns")).toBe(-1e-9);
  });
});

describe("formatDurationNanos (Go's durationTests)", () => {
  const cases: Array<[bigint, string]> = [
    [0n, "0s"],
    [1n, "1ns"],
    [1_100n, "1.1µs"],
    [1_200n, "1.2µs"],
    [2_200_000n, "2.2ms"],
    [3_300_000_000n, "3.3s"],
    [4n * 60_000_000_000n + 5_000_000_000n, "4m5s"],
    [4n * 60_000_000_000n + 5_001_000_000n, "4m5.001s"],
    [5n * 3_600_000_000_000n + 6n * 60_000_000_000n + 7_001_000_000n, "5h6m7.001s"],
    [8n * 60_000_000_000n + 1n, "8m0.000000001s"],
    [INT64_MAX, "2562047h47m16.854775807s"],
    [INT64_MIN, "-2562047h47m16.854775808s"],
    [-1n, "-1ns"],
    [3_723_500_000_000n, "1h2m3.5s"],
    [1_500_000_000n, "1.5s"],
    [300_000_000n, "300ms"],
    [-300_000_000_000n, "-5m0s"],
    [3_600_000_000_000n, "1h0m0s"],
  ];
  it.each(cases.map(([nanos, text]) => ({ nanos, text })))("formats $nanos as $text", ({ nanos, text }) => {
    expect(formatDurationNanos(nanos)).toBe(text);
  });

  it("rejects values outside int64", () => {
    expect(() => formatDurationNanos(INT64_MAX + 1n)).toThrow(CredentialProviderError);
    expect(() => formatDurationNanos(INT64_MIN - 1n)).toThrow(CredentialProviderError);
  });

  it("formats seconds after rounding to nanoseconds", () => {
    expect(formatDuration(1e-9)).toBe("1ns");
    expect(formatDuration(0.0000000004)).toBe("0s");
    expect(formatDuration(1.0000000006)).toBe("1.000000001s");
    expect(formatDuration(-0)).toBe("0s");
    expect(() => formatDuration(Number.NaN)).toThrow(CredentialProviderError);
    expect(() => formatDuration(Number.POSITIVE_INFINITY)).toThrow(CredentialProviderError);
    expect(() => formatDuration(1e12)).toThrow(CredentialProviderError);
  });
});

describe("properties", () => {
  const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });

  it("parse(format(n)) === n for every int64", () => {
    fc.assert(
      fc.property(int64, (nanos) => {
        expect(parseDurationNanos(formatDurationNanos(nanos))).toBe(nanos);
      }),
      { numRuns: 2000 },
    );
  });

  it("format output always parses", () => {
    fc.assert(
      fc.property(int64, (nanos) => {
        expect(isValidDuration(formatDurationNanos(nanos))).toBe(true);
      }),
    );
  });

  it("small durations round-trip too (the sub-second units)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -2_000_000_000n, max: 2_000_000_000n }), (nanos) => {
        expect(parseDurationNanos(formatDurationNanos(nanos))).toBe(nanos);
      }),
    );
  });

  const durationish = fc.string({
    unit: fc.constantFrom("0", "1", "9", ".", "-", "+", "h", "m", "s", "n", "u", "µ", "μ", "d", " "),
    maxLength: 24,
  });
  const lone = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

  it("parse never throws anything but CredentialProviderError", () => {
    fc.assert(
      // Plain boolean checks: expect() inside thousands of runs dominates the test's time.
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), durationish, lone), (text) => {
        try {
          const nanos = parseDurationNanos(text);
          return nanos >= INT64_MIN && nanos <= INT64_MAX && isValidDuration(text);
        } catch (error) {
          return error instanceof CredentialProviderError && error.code === "BAD_REQUEST";
        }
      }),
      { numRuns: 2000 },
    );
  });
});
