/**
 * gcp.json's `workloadIdentity`: the audience example and the STS request fields, and the
 * exchange through a fake core HTTP client.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { answer, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import type { StsExchange } from "./sts.ts";
import { exchangeAtSts, gkeWorkloadIdentityAudience, STS_TOKEN_URL, stsRequestFields } from "./sts.ts";

interface WorkloadIdentityVectors {
  stsRequest: Record<string, string>;
  example: { projectId: string; identityProvider: string; audience: string };
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/vectors/gcp.json", import.meta.url), "utf8"),
) as { workloadIdentity: WorkloadIdentityVectors; about: string };

const NOW = Date.parse("2025-06-01T00:00:00Z");
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50.c2lnbmF0dXJl";
const FEDERATED = "ya29.federated-token-xyz-0123456789";

function setup(status: number, body: unknown) {
  const { http, calls } = recordingHttp({
    [STS_TOKEN_URL]: answer(status, body),
    "https://sts.example": answer(status, body),
  });
  const { log, secrets } = quietLog();
  return { calls, context: { http, log, secrets, now: () => NOW }, secrets };
}

describe("gcp.json workloadIdentity", () => {
  it("the example audience", () => {
    const { projectId, identityProvider, audience } = vectors.workloadIdentity.example;
    expect(gkeWorkloadIdentityAudience(projectId, identityProvider)).toBe(audience);
  });

  it("the STS request fields, exactly", () => {
    const audience = gkeWorkloadIdentityAudience("my-project", "https://idp.example");
    expect(stsRequestFields(audience)).toEqual({
      ...vectors.workloadIdentity.stsRequest,
      audience: "identitynamespace:my-project.svc.id.goog:https://idp.example",
    });
  });
});

describe("exchangeAtSts", () => {
  const audience = vectors.workloadIdentity.example.audience;
  const gke: StsExchange = { audience, subjectToken: SA_TOKEN, encoding: "json" };
  const ok = { access_token: FEDERATED, expires_in: 3600, token_type: "Bearer" };

  it("json: POSTs the fields and the subject token as the Go plugin does, endpoint Google STS token exchange", async () => {
    const { calls, context, secrets } = setup(200, ok);
    expect(await exchangeAtSts(gke, context)).toEqual({
      token: FEDERATED,
      expiresAt: new Date(NOW + 3600_000),
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      url: STS_TOKEN_URL,
      method: "POST",
      endpoint: "Google STS token exchange",
    });
    expect(calls[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(String(calls[0]?.body))).toEqual({
      ...vectors.workloadIdentity.stsRequest,
      audience,
      subject_token: SA_TOKEN,
    });
    expect(secrets.reveals(FEDERATED)).toBe(true);
    expect(secrets.reveals(SA_TOKEN)).toBe(true);
  });

  it("form, with an external account's token URL, client and options", async () => {
    const { calls, context, secrets } = setup(200, ok);
    await exchangeAtSts(
      {
        audience: "//iam.googleapis.com/locations/global/workforcePools/p/providers/r",
        subjectToken: SA_TOKEN,
        subjectTokenType: "urn:ietf:params:oauth:token-type:id_token",
        encoding: "form",
        tokenUrl: "https://sts.example/v1/token",
        client: { id: "client-id", secret: "client-secret-0123456789" },
        options: { userProject: "billing-project" },
      },
      context,
    );
    expect(calls[0]?.url).toBe("https://sts.example/v1/token");
    expect(calls[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(calls[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      audience: "//iam.googleapis.com/locations/global/workforcePools/p/providers/r",
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      subject_token: SA_TOKEN,
      options: '{"userProject":"billing-project"}',
    });
    const basic = Buffer.from("client-id:client-secret-0123456789").toString("base64");
    expect(calls[0]?.headers.authorization).toBe(`Basic ${basic}`);
    expect(secrets.reveals(basic)).toBe(true);
  });

  it.each([
    [{ access_token: FEDERATED }, "malformed", /without expires_in/],
    [{ access_token: FEDERATED, expires_in: 0 }, "expired", /had already expired/],
    [{ access_token: FEDERATED, expires_in: -3600 }, "expired", /had already expired/],
    [`{"access_token":"${FEDERATED}","expires_in":3600`, "malformed", /not JSON/],
  ])("200 %j: %s", async (body, fault, message) => {
    const { context } = setup(200, body);
    const error = await exchangeAtSts(gke, context).catch((e: unknown) => e);
    expect(error).toMatchObject({ fault, endpoint: "Google STS token exchange" });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(FEDERATED);
  });

  it.each([
    [
      400,
      { error: "invalid_grant", error_description: `audience mismatch for ${SA_TOKEN}` },
      "CLOUD_AUTH_FAILED",
      "Google STS token exchange refused the request (HTTP 400, invalid_grant): the hint",
    ],
    [
      403,
      "denied",
      "CLOUD_AUTH_FAILED",
      "Google STS token exchange refused the request (HTTP 403): the hint",
    ],
    [
      302,
      "",
      "INVALID_RESPONSE",
      "Google STS token exchange answered HTTP 302, a redirect (redirects are not followed)",
    ],
    [
      200,
      JSON.stringify({ token_type: "Bearer" }),
      "INVALID_RESPONSE",
      "Google STS token exchange answered HTTP 200 without an access_token",
    ],
  ])("answer %i %j: %s", async (status, body, code, message) => {
    const { context } = setup(status, body);
    const error = await exchangeAtSts({ ...gke, hint: "the hint" }, context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code, message });
  });
});
