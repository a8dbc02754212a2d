/** IAM credentials' generateAccessToken, through a fake core HTTP client. */
import { describe, expect, it } from "vitest";
import { answer, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import { generateAccessToken, generateAccessTokenUrl } from "./iam.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const EMAIL = "puller@my-project.iam.gserviceaccount.com";
const SOURCE = "ya29.c.source-token-0123456789";
const TOKEN = "ya29.c.impersonated-token-0123456789";
const URL_ =
  "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/puller%40my-project.iam.gserviceaccount.com:generateAccessToken";

function setup(status: number, body: unknown) {
  const { http, calls } = recordingHttp({ [URL_]: answer(status, body) });
  const { log, secrets } = quietLog();
  return { calls, secrets, context: { http, log, secrets, now: () => NOW } };
}

describe("generateAccessToken", () => {
  it("POSTs the scope, no delegates and an hour's lifetime with the caller's token", async () => {
    const { calls, context, secrets } = setup(200, {
      accessToken: TOKEN,
      expireTime: "2025-06-01T01:00:00Z",
    });
    expect(generateAccessTokenUrl(EMAIL)).toBe(URL_);
    expect(await generateAccessToken({ email: EMAIL, sourceToken: SOURCE }, context)).toEqual({
      token: TOKEN,
      expiresAt: new Date("2025-06-01T01:00:00Z"),
    });
    expect(calls[0]).toMatchObject({
      url: URL_,
      method: "POST",
      endpoint: `IAM generateAccessToken (${EMAIL})`,
      headers: { authorization: `Bearer ${SOURCE}`, "content-type": "application/json" },
    });
    expect(JSON.parse(String(calls[0]?.body))).toEqual({
      scope: ["https://www.googleapis.com/auth/cloud-platform"],
      delegates: [],
      lifetime: "3600s",
    });
    expect(secrets.reveals(SOURCE)).toBe(true);
    expect(secrets.reveals(TOKEN)).toBe(true);
  });

  it("a credentials file's URL, lifetime and delegates", async () => {
    const { calls, context } = setup(200, { accessToken: TOKEN, expireTime: "2025-06-01T01:00:00Z" });
    await generateAccessToken(
      {
        email: EMAIL,
        sourceToken: SOURCE,
        url: URL_,
        lifetimeSeconds: 1200,
        delegates: ["projects/-/serviceAccounts/d@p.iam.gserviceaccount.com"],
      },
      context,
    );
    expect(JSON.parse(String(calls[0]?.body))).toMatchObject({
      lifetime: "1200s",
      delegates: ["projects/-/serviceAccounts/d@p.iam.gserviceaccount.com"],
    });
  });

  it.each([
    [
      403,
      { error: { code: 403, status: "PERMISSION_DENIED", message: "denied" } },
      "CLOUD_AUTH_FAILED",
      `IAM generateAccessToken (${EMAIL}) refused the request (HTTP 403, PERMISSION_DENIED): the caller needs roles/iam.serviceAccountTokenCreator on ${EMAIL}`,
    ],
    [
      401,
      { error: { code: 401, status: "UNAUTHENTICATED" } },
      "CLOUD_AUTH_FAILED",
      `IAM generateAccessToken (${EMAIL}) refused the request (HTTP 401, UNAUTHENTICATED): the caller's access token was not accepted`,
    ],
    [
      200,
      { accessToken: TOKEN, expireTime: "2025-05-31T00:00:00Z" },
      "INVALID_RESPONSE",
      `IAM generateAccessToken (${EMAIL}) issued a credential that had already expired (at 2025-05-31T00:00:00.000Z); check the node's clock`,
    ],
    [
      200,
      `{"accessToken":"${TOKEN}"`,
      "INVALID_RESPONSE",
      `IAM generateAccessToken (${EMAIL}) answered HTTP 200 with a body that is not JSON`,
    ],
  ])("%i %j: %s", async (status, body, code, message) => {
    const { context } = setup(status, body);
    await expect(generateAccessToken({ email: EMAIL, sourceToken: SOURCE }, context)).rejects.toMatchObject({
      code,
      message,
    });
  });
});
