/**
 * The default token sources: every identity's every call goes through the context's HTTP client
 * (core's, in the executable), each with its endpoint in words. The recording client here answers
 * as Google does and sees every request: a flow that opened a connection of its own, or used a
 * library's transport, would be missing from what it saw.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Answer, RecordedCall } from "../testdata/fake-http.ts";
import { answer, GOOGLE_FLAVOR, quietLog, recordingHttp } from "../testdata/fake-http.ts";
import type { NodeIdentitySpec, TokenSourceContext, TokenSourceSpec } from "./identity.ts";
import { createTokenSourceFactory } from "./token-sources.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const HOUR = "2025-06-01T01:00:00Z";
const METADATA = "http://127.0.0.1:8080/computeMetadata/v1/instance/service-accounts/default/token";
const OAUTH2 = "https://oauth2.googleapis.com/token";
const STS = "https://sts.googleapis.com/v1/token";
const IAM = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/";
const SUBJECT_URL = "http://169.254.169.254/metadata/identity/oauth2/token?resource=x";
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/pool/providers/oidc";
const SA = "puller@my-project.iam.gserviceaccount.com";
const TARGET = "target@my-project.iam.gserviceaccount.com";
const SUBJECT = "eyJhbGciOiJSUzI1NiJ9.c3ViamVjdA.c2lnbmF0dXJl";
const PEM = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;

const iamUrl = (email: string) => `${IAM}${encodeURIComponent(email)}:generateAccessToken`;
const files: Record<string, unknown> = {
  "/adc/sa.json": {
    type: "service_account",
    client_email: SA,
    private_key: PEM,
    private_key_id: "k1",
    token_uri: OAUTH2,
  },
  "/adc/user.json": {
    type: "authorized_user",
    client_id: "c.apps.googleusercontent.com",
    client_secret: "user-client-secret-0123",
    refresh_token: "1//user-refresh-token-0123",
  },
  "/adc/pool-file.json": {
    type: "external_account",
    audience: POOL,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    token_url: STS,
    credential_source: { file: "/var/run/subject" },
    service_account_impersonation_url: iamUrl(TARGET),
  },
  "/adc/pool-url.json": {
    type: "external_account",
    audience: POOL,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    credential_source: {
      url: SUBJECT_URL,
      headers: { Metadata: "True" },
      format: { type: "json", subject_token_field_name: "access_token" },
    },
  },
  "/adc/impersonated.json": {
    type: "impersonated_service_account",
    service_account_impersonation_url: iamUrl(TARGET),
    source_credentials: {
      type: "service_account",
      client_email: SA,
      private_key: PEM,
      token_uri: OAUTH2,
    },
  },
  "/var/run/subject": SUBJECT,
};

function setup() {
  let issued = 0;
  const answered = new Map<RecordedCall, string>();
  const token = (call: RecordedCall, prefix: string) => {
    const value = `ya29.${prefix}-${++issued}-0123456789`;
    answered.set(call, value);
    return value;
  };
  const routes: Record<string, Answer> = {
    [METADATA]: (c) =>
      answer(200, { access_token: token(c, "gce"), expires_in: 3599, token_type: "Bearer" }, GOOGLE_FLAVOR),
    [OAUTH2]: (c) =>
      answer(200, { access_token: token(c, "oauth2"), expires_in: 3599, token_type: "Bearer" }),
    [STS]: (c) => answer(200, { access_token: token(c, "sts"), expires_in: 3600, token_type: "Bearer" }),
    [IAM]: (c) => answer(200, { accessToken: token(c, "iam"), expireTime: HOUR }),
    [SUBJECT_URL]: answer(200, { access_token: SUBJECT }),
  };
  const { http, calls } = recordingHttp(routes);
  const { log, secrets } = quietLog();
  const context: TokenSourceContext = {
    signal: new AbortController().signal,
    deadline: NOW + 50_000,
    env: { GCE_METADATA_HOST: "127.0.0.1:8080" },
    log,
    secrets,
    http,
    now: () => NOW,
  };
  const readFile = async (path: string) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    return typeof content === "string" ? content : JSON.stringify(content);
  };
  const factory = createTokenSourceFactory({ readFile });
  return {
    calls,
    answered,
    context,
    secrets,
    get: async (spec: TokenSourceSpec) => (await factory(spec, context)).getAccessToken(),
  };
}

const adc = (file: string): NodeIdentitySpec => ({ kind: "applicationDefault", file });

describe("every flow's traffic passes through context.http, with its endpoint in words", () => {
  it.each<[string, TokenSourceSpec, string[], string]>([
    ["the metadata server", { kind: "metadata" }, ["GCE metadata token"], "gce"],
    ["ADC: a service account key", adc("/adc/sa.json"), [`Google OAuth2 token (${SA})`], "oauth2"],
    ["ADC: an authorized user", adc("/adc/user.json"), ["Google OAuth2 token (authorized user)"], "oauth2"],
    [
      "ADC: an external account (file), impersonating",
      adc("/adc/pool-file.json"),
      ["Google STS token exchange", `IAM generateAccessToken (${TARGET})`],
      "iam",
    ],
    [
      "ADC: an external account (url)",
      adc("/adc/pool-url.json"),
      [
        "external account subject token (http://169.254.169.254/metadata/identity/oauth2/token)",
        "Google STS token exchange",
      ],
      "sts",
    ],
    [
      "ADC: impersonated_service_account",
      adc("/adc/impersonated.json"),
      [`Google OAuth2 token (${SA})`, `IAM generateAccessToken (${TARGET})`],
      "iam",
    ],
    [
      "--impersonate-service-account with the metadata server",
      { kind: "impersonated", source: { kind: "metadata" }, targetPrincipal: TARGET },
      ["GCE metadata token", `IAM generateAccessToken (${TARGET})`],
      "iam",
    ],
    [
      "--impersonate-service-account with a key",
      { kind: "impersonated", source: adc("/adc/sa.json"), targetPrincipal: TARGET },
      [`Google OAuth2 token (${SA})`, `IAM generateAccessToken (${TARGET})`],
      "iam",
    ],
    [
      "a workload identity pool, impersonating the annotated account",
      { kind: "workloadIdentityPool", audience: POOL, subjectToken: SUBJECT, serviceAccount: TARGET },
      ["Google STS token exchange", `IAM generateAccessToken (${TARGET})`],
      "iam",
    ],
    [
      "a workload identity pool's federated token",
      { kind: "workloadIdentityPool", audience: POOL, subjectToken: SUBJECT },
      ["Google STS token exchange"],
      "sts",
    ],
  ])("%s", async (_, spec, endpoints, issuer) => {
    const { calls, answered, get, secrets } = setup();
    const token = await get(spec);
    expect(calls.map((c) => c.endpoint)).toEqual(endpoints);
    expect(token.token).toMatch(new RegExp(`^ya29\\.${issuer}-\\d+-`));
    expect(token.expiresAt.getTime()).toBeGreaterThan(NOW + 3500_000);
    expect(secrets.reveals(token.token)).toBe(true);
    // Each step's token is the next step's bearer, and the last step's is the answer.
    for (const [i, call] of calls.entries()) {
      if (call.endpoint?.startsWith("IAM ")) {
        expect(call.headers.authorization).toBe(`Bearer ${answered.get(calls[i - 1] as RecordedCall)}`);
      }
    }
    expect(token.token).toBe(answered.get(calls.at(-1) as RecordedCall));
  });

  it("a workload identity pool: the pod's token at STS as a form, as the client libraries send it", async () => {
    const { calls, get } = setup();
    await get({
      kind: "workloadIdentityPool",
      audience: POOL,
      subjectToken: SUBJECT,
      serviceAccount: TARGET,
    });
    expect(calls[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(calls[0]?.body))).toEqual({
      audience: POOL,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      subject_token: SUBJECT,
    });
    expect(calls[1]?.url).toBe(iamUrl(TARGET));
  });

  it("the secrets of every file are registered before any call", async () => {
    const { get, secrets } = setup();
    await get(adc("/adc/user.json"));
    expect(secrets.reveals("1//user-refresh-token-0123")).toBe(true);
    expect(secrets.reveals("user-client-secret-0123")).toBe(true);
    await get(adc("/adc/sa.json"));
    expect(secrets.reveals(PEM)).toBe(true);
  });

  it("an unsupported credentials type: CONFIG_INVALID naming it, and no call", async () => {
    const { calls, get } = setup();
    files["/adc/aws.json"] = {
      type: "external_account",
      audience: POOL,
      subject_token_type: "urn:ietf:params:aws:token-type:aws4_request",
      credential_source: { environment_id: "aws1" },
    };
    await expect(get(adc("/adc/aws.json"))).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringMatching(
        /^GOOGLE_APPLICATION_CREDENTIALS \/adc\/aws.json: has an AWS credential_source/,
      ),
    });
    expect(calls).toEqual([]);
  });
});
