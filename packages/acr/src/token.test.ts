import { describe, expect, it } from "vitest";
import { cacheDurationFor, jwtExpiry, MAX_CACHE_SECONDS } from "./token.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = (claims: Record<string, unknown>) =>
  `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.c2lnbmF0dXJl`;

describe("jwtExpiry", () => {
  it("reads exp (seconds) from the payload", () => {
    expect(jwtExpiry(jwt({ exp: NOW / 1000 + 3 * 3600 }))?.getTime()).toBe(NOW + 3 * 3600_000);
  });

  it("accepts padded base64url", () => {
    const payload = Buffer.from(JSON.stringify({ exp: 2_000_000_000, x: "ab" })).toString("base64url");
    expect(jwtExpiry(`e30.${payload}==.s`)?.getTime()).toBe(2_000_000_000_000);
  });

  it.each([
    ["not a JWT", "opaque-refresh-token"],
    ["two parts", "a.b"],
    ["four parts", "a.b.c.d"],
    ["payload not base64url", "a.!!!.c"],
    ["payload not JSON", `a.${Buffer.from("nope").toString("base64url")}.c`],
    ["payload an array", `a.${b64([1])}.c`],
    ["no exp", jwt({ sub: "x" })],
    ["exp a string", jwt({ exp: "1750000000" })],
    ["exp negative", jwt({ exp: -5 })],
    ["exp absurd", jwt({ exp: 1e20 })],
    ["empty", ""],
  ])("undefined for %s", (_name, token) => {
    expect(jwtExpiry(token)).toBeUndefined();
  });
});

describe("cacheDurationFor", () => {
  it("is half the remaining validity, in whole seconds", () => {
    expect(cacheDurationFor(new Date(NOW + 3 * 3600_000), NOW)).toBe("1h30m0s");
    expect(cacheDurationFor(new Date(NOW + 61_000), NOW)).toBe("30s");
  });

  it(`is capped at ${MAX_CACHE_SECONDS / 3600}h`, () => {
    expect(cacheDurationFor(new Date(NOW + 365 * 86400_000), NOW)).toBe("6h0m0s");
  });

  it('is "0s" for no expiry, an expired token, never negative', () => {
    expect(cacheDurationFor(undefined, NOW)).toBe("0s");
    expect(cacheDurationFor(new Date(NOW - 1000), NOW)).toBe("0s");
    expect(cacheDurationFor(new Date(NOW), NOW)).toBe("0s");
  });
});
