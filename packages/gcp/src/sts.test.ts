/**
 * gcp.json's `workloadIdentity`: the audience example and the STS request fields, and the
 * exchange through a fake core HTTP client.
 */
import { readFileSync } from "node:fs";
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
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

function response(status: number, body: string): HttpResponse {
  return {
    status,
    headers: {},
    body: new TextEncoder().encode(body),
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function setup(answer: HttpResponse) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      calls.push({ url: String(url), options });
      return answer;
    },
  };
  const secrets = new SecretRegistry();
  const log = createLogger({ name: "t", verbosity: 10, secrets, sink: { write() {} } });
  return { calls, context: { http, log, secrets }, secrets };
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

  it("POSTs the fields and the subject token as JSON and reads the federated token", async () => {
    const { calls, context, secrets } = setup(
      response(200, JSON.stringify({ access_token: FEDERATED, expires_in: 3600, token_type: "Bearer" })),
    );
    const token = await exchangeAtSts({ audience, subjectToken: SA_TOKEN, now: NOW }, context);
    expect(token).toEqual({ token: FEDERATED, expiresAt: new Date(NOW + 3600_000) });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(STS_TOKEN_URL);
    expect(calls[0]?.options.method).toBe("POST");
    expect(calls[0]?.options.headers?.["content-type"]).toBe("application/json");
    expect(JSON.parse(String(calls[0]?.options.body))).toEqual({
      ...vectors.workloadIdentity.stsRequest,
      audience,
      subject_token: SA_TOKEN,
    });
    expect(secrets.reveals(FEDERATED)).toBe(true);
  });

  it("without expires_in: no expiry", async () => {
    const { context } = setup(response(200, JSON.stringify({ access_token: FEDERATED })));
    expect(await exchangeAtSts({ audience, subjectToken: SA_TOKEN, now: NOW }, context)).toEqual({
      token: FEDERATED,
    });
  });

  it.each([
    [
      400,
      JSON.stringify({ error: "invalid_grant", error_description: "audience mismatch" }),
      "CLOUD_AUTH_FAILED",
      /400: invalid_grant: audience mismatch/,
    ],
    [403, "denied", "CLOUD_AUTH_FAILED", /answered 403/],
    [302, "", "INVALID_RESPONSE", /redirects are not followed/],
    [200, "not json", "INVALID_RESPONSE", /not JSON/],
    [200, JSON.stringify({ token_type: "Bearer" }), "INVALID_RESPONSE", /without an access_token/],
  ])("answer %i %j: %s", async (status, body, code, message) => {
    const { context } = setup(response(status, body));
    const error = await exchangeAtSts({ audience, subjectToken: SA_TOKEN, now: NOW }, context).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SA_TOKEN);
  });
});
