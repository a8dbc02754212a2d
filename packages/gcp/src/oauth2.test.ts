/** Google OAuth2 for ADC files: the JWT bearer grant signed with node:crypto, and the refresh token grant. */
import { generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { answer, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import type { ServiceAccountKey } from "./oauth2.ts";
import {
  authorizedUserToken,
  GOOGLE_OAUTH2_TOKEN_URL,
  JWT_BEARER_GRANT,
  serviceAccountKeyToken,
  signJwtAssertion,
} from "./oauth2.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const TOKEN = "ya29.c.service-account-token-0123456789";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const KEY: ServiceAccountKey = {
  clientEmail: "puller@my-project.iam.gserviceaccount.com",
  privateKey: PEM,
  privateKeyId: "0123abcd",
  tokenUri: GOOGLE_OAUTH2_TOKEN_URL,
};

function decode(jwt: string) {
  const [header, claims, signature] = jwt.split(".") as [string, string, string];
  const json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  return { header: json(header), claims: json(claims), input: `${header}.${claims}`, signature };
}

function setup(
  status = 200,
  body: unknown = { access_token: TOKEN, expires_in: 3599, token_type: "Bearer" },
) {
  const { http, calls } = recordingHttp({ [GOOGLE_OAUTH2_TOKEN_URL]: answer(status, body) });
  const { log, secrets, lines } = quietLog();
  return { calls, lines, secrets, context: { http, log, secrets, now: () => NOW } };
}

describe("signJwtAssertion", () => {
  it("RS256 over Google's claims, verifiable with the key's public half", () => {
    const jwt = decode(signJwtAssertion(KEY, NOW));
    expect(jwt.header).toEqual({ alg: "RS256", typ: "JWT", kid: "0123abcd" });
    expect(jwt.claims).toEqual({
      iss: KEY.clientEmail,
      scope: "https://www.googleapis.com/auth/cloud-platform",
      aud: "https://oauth2.googleapis.com/token",
      iat: NOW / 1000,
      exp: NOW / 1000 + 3600,
    });
    expect(verify("sha256", Buffer.from(jwt.input), publicKey, Buffer.from(jwt.signature, "base64url"))).toBe(
      true,
    );
  });

  it("without private_key_id: no kid", () => {
    const { privateKeyId: _, ...key } = KEY;
    expect(decode(signJwtAssertion(key, NOW)).header).toEqual({ alg: "RS256", typ: "JWT" });
  });

  it("a private key that is not PEM, or not RSA: CONFIG_INVALID without the key", () => {
    // PEM armour around a body that is not a key, made from the run's key: no key-looking literal.
    const garbage = PEM.replace(/(?<=-----\n)[\s\S]*(?=\n-----END)/, "not-a-key-secret-material");
    expect(() => signJwtAssertion({ ...KEY, privateKey: garbage }, NOW)).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: `the service account key of ${KEY.clientEmail}: private_key is not a PEM private key`,
      }),
    );
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    expect(() => signJwtAssertion({ ...KEY, privateKey: String(ec) }, NOW)).toThrow(/is not an RSA key/);
  });
});

describe("serviceAccountKeyToken", () => {
  it("POSTs the JWT bearer grant as a form to the key's token_uri; the assertion is a secret", async () => {
    const { calls, context, secrets } = setup();
    expect(await serviceAccountKeyToken(KEY, context)).toEqual({
      token: TOKEN,
      expiresAt: new Date(NOW + 3599_000),
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      url: GOOGLE_OAUTH2_TOKEN_URL,
      method: "POST",
      endpoint: `Google OAuth2 token (${KEY.clientEmail})`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const form = new URLSearchParams(calls[0]?.body);
    expect(form.get("grant_type")).toBe(JWT_BEARER_GRANT);
    const assertion = form.get("assertion") as string;
    expect(decode(assertion).claims.iss).toBe(KEY.clientEmail);
    expect(secrets.reveals(assertion)).toBe(true);
    expect(secrets.reveals(TOKEN)).toBe(true);
  });

  it.each([
    [
      400,
      { error: "invalid_grant", error_description: "Invalid JWT Signature." },
      "rejected",
      /refused the request \(HTTP 400, invalid_grant\): the key may be deleted/,
    ],
    [200, { access_token: TOKEN, expires_in: 0 }, "expired", /had already expired/],
    [200, { access_token: TOKEN }, "malformed", /without expires_in/],
    [200, `{"access_token":"${TOKEN}"`, "malformed", /not JSON/],
  ])("%i %j: %s", async (status, body, fault, message) => {
    const { context } = setup(status, body);
    const error = await serviceAccountKeyToken(KEY, context).catch((e: unknown) => e);
    expect(error).toMatchObject({ fault, endpoint: `Google OAuth2 token (${KEY.clientEmail})` });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(TOKEN);
  });
});

describe("authorizedUserToken", () => {
  const user = {
    clientId: "1234.apps.googleusercontent.com",
    clientSecret: "client-secret-0123456789",
    refreshToken: "1//refresh-token-0123456789",
    tokenUri: GOOGLE_OAUTH2_TOKEN_URL,
  };

  it("the refresh token grant, the client in the form; both secrets registered", async () => {
    const { calls, context, secrets } = setup();
    expect((await authorizedUserToken(user, context)).token).toBe(TOKEN);
    expect(calls[0]?.endpoint).toBe("Google OAuth2 token (authorized user)");
    expect(Object.fromEntries(new URLSearchParams(calls[0]?.body))).toEqual({
      grant_type: "refresh_token",
      client_id: user.clientId,
      client_secret: user.clientSecret,
      refresh_token: user.refreshToken,
    });
    expect(secrets.reveals(user.refreshToken)).toBe(true);
    expect(secrets.reveals(user.clientSecret)).toBe(true);
  });

  it("a revoked refresh token: rejected with the hint", async () => {
    const { context } = setup(400, {
      error: "invalid_grant",
      error_description: "Token has been expired or revoked.",
    });
    await expect(authorizedUserToken(user, context)).rejects.toMatchObject({
      code: "CLOUD_AUTH_FAILED",
      message: expect.stringMatching(/HTTP 400, invalid_grant\): the refresh token may be revoked/),
    });
  });
});
