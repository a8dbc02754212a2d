/**
 * Google's token answers, read strictly: the token registered at once, a known expiry in the
 * future, and errors that name the endpoint and what was wrong without quoting the answer.
 */
import {
  CloudCallError,
  MIN_CREDENTIAL_VALIDITY_MS,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answer } from "../testdata/fake-http.ts";
import { cloudErrorCode, readIamTokenAnswer, readTokenAnswer, refusal } from "./answers.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const TOKEN = "ya29.c.b0Aaekm1K-secret-token-0123456789";
const ENDPOINT = "GCE metadata token";

function read(status: number, body: unknown) {
  const secrets = new SecretRegistry();
  const run = () => readTokenAnswer(answer(status, body), ENDPOINT, { secrets, now: () => NOW });
  return { secrets, run };
}

function failure(run: () => unknown): CloudCallError {
  try {
    run();
  } catch (error) {
    if (error instanceof CloudCallError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("readTokenAnswer", () => {
  it("a token answer: the token, registered as a secret, and its expiry from expires_in", () => {
    const { secrets, run } = read(200, { access_token: TOKEN, expires_in: 3599, token_type: "Bearer" });
    expect(run()).toEqual({ token: TOKEN, expiresAt: new Date(NOW + 3599_000) });
    expect(secrets.reveals(TOKEN)).toBe(true);
    expect(read(200, { access_token: TOKEN, expires_in: "3600" }).run().expiresAt).toEqual(
      new Date(NOW + 3600_000),
    );
  });

  it.each([
    ["the closing brace missing", `{"access_token":"${TOKEN}","expires_in":3599,"token_type":"Bearer"`],
    ["a trailing byte", `{"access_token":"${TOKEN}","expires_in":3599}x`],
    ["a bare JSON string", JSON.stringify(JSON.stringify({ access_token: TOKEN, expires_in: 3599 }))],
    ["an HTML page", `<html><body>${TOKEN}</body></html>`],
  ])("%s: malformed, naming the endpoint, quoting nothing of the body", (_, body) => {
    const error = failure(read(200, body).run);
    expect(error).toMatchObject({
      fault: "malformed",
      code: "INVALID_RESPONSE",
      endpoint: ENDPOINT,
      status: 200,
    });
    expect(error.message).toMatch(
      /^GCE metadata token answered HTTP 200 with (a body that is not JSON|JSON that is not an object \(a string\))$/,
    );
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain("access_token");
  });

  it("any answer cut short: never a token in the error", () => {
    const whole = JSON.stringify({ access_token: TOKEN, expires_in: 3599, token_type: "Bearer" });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: whole.length - 1 }), fc.string({ maxLength: 3 }), (cut, tail) => {
        const body = whole.slice(0, cut) + tail;
        try {
          read(200, body).run();
        } catch (error) {
          expect(error).toBeInstanceOf(CloudCallError);
          expect((error as Error).message).not.toContain(TOKEN.slice(5, 25));
        }
      }),
    );
  });

  it.each([
    [[TOKEN], /JSON that is not an object \(an array\)/],
    [null, /JSON that is not an object \(null\)/],
    [{ expires_in: 3599 }, /without an access_token$/],
    [{ access_token: "", expires_in: 3599 }, /without an access_token$/],
    [{ access_token: 42, expires_in: 3599 }, /without an access_token$/],
    [
      { access_token: "ya29 has spaces", expires_in: 3599 },
      /with an access_token that is not a bearer token$/,
    ],
    [{ access_token: TOKEN }, /without expires_in \(the token's lifetime is unknown\)$/],
    [{ access_token: TOKEN, expires_in: null }, /without expires_in/],
    [{ access_token: TOKEN, expires_in: "soon" }, /with an expires_in that is not a number of seconds$/],
    [{ access_token: TOKEN, expires_in: {} }, /with an expires_in that is not a number of seconds$/],
  ])("%j: malformed (%s)", (body, message) => {
    const error = failure(read(200, body).run);
    expect(error.fault).toBe("malformed");
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TOKEN);
  });

  it.each([
    ["expires_in 0 (which google-auth-library reads as no expiry)", 0, /had already expired/],
    ["a negative expires_in", -60, /had already expired/],
    ["a negative expires_in as a string", "-1", /had already expired/],
    ["expiring within a minute", MIN_CREDENTIAL_VALIDITY_MS / 1000 - 1, /expires within a minute/],
  ])("%s: expired, an error, not an answer", (_, expiresIn, message) => {
    const error = failure(read(200, { access_token: TOKEN, expires_in: expiresIn }).run);
    expect(error).toMatchObject({ fault: "expired", code: "INVALID_RESPONSE", endpoint: ENDPOINT });
    expect(error.message).toMatch(new RegExp(`^${ENDPOINT} issued a credential that`));
    expect(error.message).toMatch(message);
  });

  it("a token good for a minute exactly is answered", () => {
    const seconds = MIN_CREDENTIAL_VALIDITY_MS / 1000;
    expect(read(200, { access_token: TOKEN, expires_in: seconds }).run().token).toBe(TOKEN);
  });

  it("a token in a malformed answer is still registered as a secret when it could be read", () => {
    const { secrets, run } = read(200, { access_token: TOKEN, expires_in: 0 });
    expect(() => run()).toThrow(CloudCallError);
    expect(secrets.reveals(TOKEN)).toBe(true);
  });

  it("a refusal: the status and the cloud's error code, with the hint", () => {
    const secrets = new SecretRegistry();
    const body = { error: "invalid_grant", error_description: `Invalid JWT for ${TOKEN}` };
    const error = failure(() =>
      readTokenAnswer(answer(400, body), "Google OAuth2 token (a@b)", { secrets, now: () => NOW }, "a hint"),
    );
    expect(error).toMatchObject({
      fault: "rejected",
      code: "CLOUD_AUTH_FAILED",
      status: 400,
      faultCause: "invalid_grant",
    });
    expect(error.message).toBe(
      "Google OAuth2 token (a@b) refused the request (HTTP 400, invalid_grant): a hint",
    );
  });
});

describe("refusal", () => {
  it.each([
    [
      403,
      { error: { code: 403, status: "PERMISSION_DENIED", message: "denied" } },
      "rejected",
      "CLOUD_AUTH_FAILED",
      "refused the request (HTTP 403, PERMISSION_DENIED)",
    ],
    [404, "Not Found", "rejected", "CLOUD_AUTH_FAILED", "refused the request (HTTP 404)"],
    [302, "", "malformed", "INVALID_RESPONSE", "answered HTTP 302, a redirect (redirects are not followed)"],
    [501, "", "server-error", "CLOUD_UNAVAILABLE", "answered HTTP 501"],
    [204, "", "malformed", "INVALID_RESPONSE", "answered HTTP 204, not 200"],
  ])("HTTP %i: %s", (status, body, fault, code, detail) => {
    const error = refusal(answer(status, body), "X");
    expect(error).toMatchObject({ fault, code, status });
    expect(error.message).toBe(`X ${detail}`);
  });
});

describe("cloudErrorCode", () => {
  it.each([
    [{ error: "invalid_grant" }, "invalid_grant"],
    [{ error: { status: "RESOURCE_EXHAUSTED" } }, "RESOURCE_EXHAUSTED"],
    [{ error: TOKEN }, undefined],
    [{ error: "Invalid grant: a sentence" }, undefined],
    [{ error: { status: `ya29.${"x".repeat(20)}` } }, undefined],
    [{ error: "x".repeat(41) }, undefined],
    ["not json", undefined],
  ])("%j: %s (only a bare word is ever repeated)", (body, code) => {
    expect(cloudErrorCode(answer(400, body))).toBe(code);
  });
});

describe("readIamTokenAnswer", () => {
  const iam = (body: unknown) => {
    const secrets = new SecretRegistry();
    return {
      secrets,
      run: () =>
        readIamTokenAnswer(answer(200, body), "IAM generateAccessToken (a@b)", { secrets, now: () => NOW }),
    };
  };

  it("accessToken and expireTime", () => {
    const { secrets, run } = iam({ accessToken: TOKEN, expireTime: "2025-06-01T01:00:00Z" });
    expect(run()).toEqual({ token: TOKEN, expiresAt: new Date("2025-06-01T01:00:00Z") });
    expect(secrets.reveals(TOKEN)).toBe(true);
  });

  it.each([
    [{ accessToken: TOKEN }, "malformed", /without an expireTime$/],
    [
      { accessToken: TOKEN, expireTime: "tomorrow" },
      "malformed",
      /with an expireTime that is not an RFC 3339 time$/,
    ],
    [{ accessToken: TOKEN, expireTime: 1 }, "malformed", /not an RFC 3339 time/],
    [{ expireTime: "2025-06-01T01:00:00Z" }, "malformed", /without an accessToken$/],
    [{ accessToken: TOKEN, expireTime: "2025-05-31T23:00:00Z" }, "expired", /had already expired/],
    [{ accessToken: TOKEN, expireTime: "2025-06-01T00:00:30Z" }, "expired", /expires within a minute/],
  ])("%j: %s", (body, fault, message) => {
    const error = failure(iam(body).run);
    expect(error.fault).toBe(fault);
    expect(error.message).toMatch(/^IAM generateAccessToken \(a@b\) /);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TOKEN);
  });
});
