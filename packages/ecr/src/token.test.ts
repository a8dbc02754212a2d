import { isCredentialProviderError } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { cacheDurationFor, decodeAuthorizationToken } from "./token.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("decodeAuthorizationToken", () => {
  it("splits base64('AWS:<password>') at the first colon", () => {
    expect(decodeAuthorizationToken(b64("AWS:eyJwYXlsb2FkIjoi:with:colons"))).toEqual({
      username: "AWS",
      password: "eyJwYXlsb2FkIjoi:with:colons",
    });
  });

  it.each([
    ["", "is empty"],
    ["not base64!", "is not base64"],
    [b64("AWS:pwd").replace(/=+$/, ""), "is not base64"],
    [` ${b64("AWS:pw")}`, "is not base64"],
    [`${b64("AWS:pw")}\n`, "is not base64"],
    [b64("AWSpassword"), "does not decode to user:password (no colon)"],
    [b64(":password"), "decodes to an empty user or password"],
    [b64("AWS:"), "decodes to an empty user or password"],
    [Buffer.from([0x41, 0x3a, 0xff, 0xfe]).toString("base64"), "does not decode to UTF-8 text"],
  ])("refuses %j as CLOUD_AUTH_FAILED (%s), without quoting it", (token, reason) => {
    let error: unknown;
    try {
      decodeAuthorizationToken(token, "ECR Public");
    } catch (caught) {
      error = caught;
    }
    expect(isCredentialProviderError(error) && error.code).toBe("CLOUD_AUTH_FAILED");
    expect((error as Error).message).toBe(`the authorization token from ECR Public ${reason}`);
    if (token.trim()) expect((error as Error).message).not.toContain(token.trim());
  });
});

describe("cacheDurationFor", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it.each([
    ["12 hours ahead", "2025-01-01T12:00:00Z", "6h0m0s"],
    ["an odd number of seconds", "2025-01-01T00:00:03Z", "1s"],
    ["a fraction of a second is dropped", "2025-01-01T00:00:01.999Z", "0s"],
    ["90 minutes and 1 second", "2025-01-01T01:30:01Z", "45m0s"],
    ["exactly now", "2025-01-01T00:00:00Z", "0s"],
    ["already expired", "2024-12-31T23:00:00Z", "0s"],
  ])("%s: %s → %s", (_, expiresAt, expected) => {
    expect(cacheDurationFor(new Date(expiresAt), now)).toBe(expected);
  });

  it('is "0s" (do not cache) without an expiry or with an invalid one', () => {
    expect(cacheDurationFor(undefined, now)).toBe("0s");
    expect(cacheDurationFor(new Date(Number.NaN), now)).toBe("0s");
  });
});
