/**
 * The google-auth-library factory, with every request it makes answered by a fake core HTTP
 * client: no network. This shows that the library's requests (metadata server, STS, IAM
 * credentials) all go through `context.http`, with the fields Google expects.
 */
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { CredentialProviderError, createLogger, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { createGoogleTokenSource, fetchThroughCore, readCredentialsFile } from "./google.ts";
import type { TokenSourceContext, TokenSourceSpec } from "./identity.ts";

const NOW = Date.now();
const NODE_TOKEN = "ya29.node-metadata-token-0123456789";
const STS_TOKEN = "ya29.federated-sts-token-0123456789";
const IAM_TOKEN = "ya29.impersonated-token-0123456789";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50.c2lnbmF0dXJl";
const POOL =
  "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/pool/providers/cluster";

interface Call {
  url: string;
  options: HttpRequestOptions;
}

function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: new TextEncoder().encode(text),
    text: () => text,
    json: () => JSON.parse(text),
  };
}

function setup(answers: Record<string, () => HttpResponse | Error> = {}) {
  const calls: Call[] = [];
  const defaults: Record<string, () => HttpResponse | Error> = {
    "/computeMetadata/v1/instance/service-accounts/default/token": () =>
      response(
        200,
        { access_token: NODE_TOKEN, expires_in: 3599, token_type: "Bearer" },
        { "metadata-flavor": "Google" },
      ),
    "https://sts.googleapis.com/v1/token": () =>
      response(200, {
        access_token: STS_TOKEN,
        expires_in: 3600,
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
      }),
    ":generateAccessToken": () =>
      response(200, { accessToken: IAM_TOKEN, expireTime: new Date(NOW + 3600_000).toISOString() }),
  };
  const http: HttpClient = {
    async request(url, options = {}) {
      const href = String(url);
      calls.push({ url: href, options });
      const all = { ...defaults, ...answers };
      const key = Object.keys(all).find((k) => href.startsWith(k) || href.includes(k));
      const answer = key ? (all[key] as () => HttpResponse | Error)() : response(404, { error: "not_found" });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const secrets = new SecretRegistry();
  const context: TokenSourceContext = {
    signal: new AbortController().signal,
    deadline: Date.now() + 20_000,
    env: {},
    log: createLogger({ name: "test", verbosity: 0, secrets, sink: { write() {} } }),
    secrets,
    http,
  };
  return { calls, context, secrets };
}

const body = (call: Call | undefined) => String(call?.options.body ?? "");

describe("createGoogleTokenSource", () => {
  it("metadata: the node's default service account token, through context.http with Metadata-Flavor", async () => {
    const { calls, context, secrets } = setup();
    const source = await createGoogleTokenSource({ kind: "metadata" }, context);
    const token = await source.getAccessToken();
    expect(token.token).toBe(NODE_TOKEN);
    expect(token.expiresAt?.getTime()).toBeGreaterThan(NOW + 3500_000);
    const call = calls.find((c) => c.url.includes("/service-accounts/default/token"));
    expect(call?.url).toMatch(
      /^http:\/\/169\.254\.169\.254\/computeMetadata\/v1\/instance\/service-accounts\/default\/token/,
    );
    expect(call?.options.headers?.["metadata-flavor"]).toBe("Google");
    expect(secrets.reveals(`x ${NODE_TOKEN}`)).toBe(true);
  });

  it("metadata: an answer without Metadata-Flavor is refused", async () => {
    const { context } = setup({
      "/computeMetadata/v1/instance/service-accounts/default/token": () =>
        response(200, { access_token: NODE_TOKEN, expires_in: 3599 }),
    });
    const source = await createGoogleTokenSource({ kind: "metadata" }, context);
    await expect(source.getAccessToken()).rejects.toThrow(/Metadata-Flavor/);
  });

  it("core's typed error (e.g. a 503 after retries) is the cause of what the library throws", async () => {
    const { context } = setup({
      "/computeMetadata/v1/instance/service-accounts/default/token": () =>
        new CredentialProviderError("CLOUD_UNAVAILABLE", "GET http://169.254.169.254/... answered 503"),
    });
    const source = await createGoogleTokenSource({ kind: "metadata" }, context);
    const error = await source.getAccessToken().catch((e: unknown) => e);
    let cause: unknown = error;
    while (cause && !(cause instanceof CredentialProviderError)) cause = (cause as { cause?: unknown }).cause;
    expect(cause).toBeInstanceOf(CredentialProviderError);
  });

  it("workload identity pool: STS form exchange with the pod's token, then impersonation", async () => {
    const { calls, context, secrets } = setup();
    const spec: TokenSourceSpec = {
      kind: "workloadIdentityPool",
      audience: POOL,
      subjectToken: SA_TOKEN,
      serviceAccount: "puller@my-project.iam.gserviceaccount.com",
    };
    const token = await (await createGoogleTokenSource(spec, context)).getAccessToken();
    expect(token.token).toBe(IAM_TOKEN);
    const sts = calls.find((c) => c.url === "https://sts.googleapis.com/v1/token");
    const form = new URLSearchParams(body(sts));
    expect(sts?.options.method).toBe("POST");
    expect(form.get("audience")).toBe(POOL);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:token-exchange");
    expect(form.get("subject_token_type")).toBe("urn:ietf:params:oauth:token-type:jwt");
    expect(form.get("subject_token")).toBe(SA_TOKEN);
    const iam = calls.find((c) => c.url.includes(":generateAccessToken"));
    expect(iam?.url).toBe(
      "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/puller%40my-project.iam.gserviceaccount.com:generateAccessToken",
    );
    expect(iam?.options.headers?.authorization).toBe(`Bearer ${STS_TOKEN}`);
    expect(JSON.parse(body(iam)).scope).toEqual(["https://www.googleapis.com/auth/cloud-platform"]);
    expect(secrets.reveals(SA_TOKEN)).toBe(true);
  });

  it("workload identity pool without a service account: the federated token itself", async () => {
    const { calls, context } = setup();
    const spec: TokenSourceSpec = { kind: "workloadIdentityPool", audience: POOL, subjectToken: SA_TOKEN };
    const token = await (await createGoogleTokenSource(spec, context)).getAccessToken();
    expect(token.token).toBe(STS_TOKEN);
    expect(calls.some((c) => c.url.includes("iamcredentials"))).toBe(false);
  });

  it("impersonated: generateAccessToken for the target with the node's token", async () => {
    const { calls, context } = setup();
    const spec: TokenSourceSpec = {
      kind: "impersonated",
      source: { kind: "metadata" },
      targetPrincipal: "puller@my-project.iam.gserviceaccount.com",
    };
    const token = await (await createGoogleTokenSource(spec, context)).getAccessToken();
    expect(token.token).toBe(IAM_TOKEN);
    expect(token.expiresAt?.getTime()).toBe(Date.parse(new Date(NOW + 3600_000).toISOString()));
    const iam = calls.find((c) => c.url.includes(":generateAccessToken"));
    expect(iam?.options.headers?.authorization).toBe(`Bearer ${NODE_TOKEN}`);
    expect(JSON.parse(body(iam)).lifetime).toBe("3600s");
  });

  it("a refusal from STS is a library error with the HTTP status", async () => {
    const { context } = setup({
      "https://sts.googleapis.com/v1/token": () =>
        response(400, { error: "invalid_grant", error_description: "The audience does not match" }),
    });
    const spec: TokenSourceSpec = { kind: "workloadIdentityPool", audience: POOL, subjectToken: SA_TOKEN };
    const error = await (await createGoogleTokenSource(spec, context))
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(JSON.stringify((error as { response?: { status?: number } }).response?.status)).toBe("400");
  });
});

describe("fetchThroughCore", () => {
  it("hands method, headers, body and a timeout within the deadline to core's client", async () => {
    const { calls, context } = setup({ "https://example.test/": () => response(204, "") });
    const fetch = fetchThroughCore({ ...context, deadline: Date.now() + 3_000 });
    const answer = await fetch(new URL("https://example.test/x"), {
      method: "POST",
      headers: { "x-a": "1" },
      body: new URLSearchParams({ a: "b" }),
    });
    expect(answer.status).toBe(204);
    expect(calls[0]?.options).toMatchObject({
      method: "POST",
      headers: { "x-a": "1", "content-type": "application/x-www-form-urlencoded" },
      body: "a=b",
    });
    expect(calls[0]?.options.timeoutMs).toBeLessThanOrEqual(3_000);
  });
});

describe("readCredentialsFile", () => {
  it("registers the private key and refresh token, and refuses what is not a credentials file", async () => {
    const secrets = new SecretRegistry();
    const key = "-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n";
    const json = { type: "service_account", private_key: key, client_email: "a@b.iam.gserviceaccount.com" };
    await readCredentialsFile("/adc.json", { secrets }, async () => JSON.stringify(json));
    expect(secrets.reveals(key)).toBe(true);
    await expect(readCredentialsFile("/adc.json", { secrets }, async () => "{")).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
    await expect(readCredentialsFile("/adc.json", { secrets }, async () => "{}")).rejects.toThrow(
      /has no type/,
    );
    const missing = Object.assign(new Error("nope"), { code: "ENOENT" });
    await expect(
      readCredentialsFile("/adc.json", { secrets }, async () => {
        throw missing;
      }),
    ).rejects.toThrow(/no such file/);
  });
});
