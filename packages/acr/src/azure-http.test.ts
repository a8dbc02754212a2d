/**
 * The adapter that puts @azure/identity's requests on core's client: what core is asked to send,
 * what the SDK gets back, and which failure is kept for the operator. Core's client is a recording
 * fake here; azure.test.ts runs the real SDK over core's real client.
 */
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import { CloudCallError, SecretRegistry } from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { createAzureHttp, shortDescription } from "./azure-http.ts";
import { azureEndpointOf } from "./endpoints.ts";

const TOKEN_URL = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token?client-request-id=abc";
const IMDS_URL =
  "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net";
const ENTRA = "Entra token (login.microsoftonline.com, tenant tenant-1)";
const SECRET = "client-secret~0123456789";

function answer(status: number, body: string, headers: Record<string, string | string[]> = {}): HttpResponse {
  const bytes = Buffer.from(body);
  return {
    status,
    headers,
    body: bytes,
    endpoint: "x",
    text: () => body,
    json: () => JSON.parse(body),
  };
}

function setup(...answers: Array<HttpResponse | Error>) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      calls.push({ url: String(url), options });
      const next = answers.shift();
      if (next === undefined) throw new Error(`unexpected call to ${url}`);
      if (next instanceof Error) throw next;
      return next;
    },
  };
  const secrets = new SecretRegistry();
  const azure = createAzureHttp({ http, createHttpHeaders, secrets });
  return { azure, calls, secrets };
}

const tokenRequest = (extra: Partial<Parameters<typeof createPipelineRequest>[0]> = {}) =>
  createPipelineRequest({
    url: TOKEN_URL,
    method: "POST",
    headers: createHttpHeaders({
      "Content-Type": "application/x-www-form-urlencoded;charset=utf-8",
      "Accept-Encoding": "gzip,deflate",
      "x-ms-client-request-id": "abc",
    }),
    body: `client_id=c&grant_type=client_credentials&client_secret=${SECRET}`,
    ...extra,
  });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

describe("the request core sends", () => {
  it("the SDK's method, URL, headers and body, named as the endpoint; no gzip asked for", async () => {
    const { azure, calls } = setup(answer(200, '{"access_token":"t","expires_in":3599}'));
    await azure.httpClient.sendRequest(tokenRequest());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(TOKEN_URL);
    expect(calls[0]?.options).toMatchObject({
      method: "POST",
      endpoint: ENTRA,
      body: `client_id=c&grant_type=client_credentials&client_secret=${SECRET}`,
      headers: {
        "content-type": "application/x-www-form-urlencoded;charset=utf-8",
        "x-ms-client-request-id": "abc",
      },
    });
    // Core's client does not inflate: a gzip answer would reach MSAL as garbage.
    expect(calls[0]?.options.headers).not.toHaveProperty("accept-encoding");
    expect(calls[0]?.options.timeoutMs).toBeUndefined();
  });

  it("a form body is encoded; bytes are sent as bytes; the SDK's own timeout caps the attempt", async () => {
    const { azure, calls } = setup(answer(200, "{}"), answer(200, "{}"));
    await azure.httpClient.sendRequest(
      createPipelineRequest({ url: TOKEN_URL, method: "POST", formData: { a: "1", b: ["2", "3 4"] } }),
    );
    expect(calls[0]?.options.body).toBe("a=1&b=2&b=3+4");
    expect(calls[0]?.options.headers?.["content-type"]).toBe("application/x-www-form-urlencoded");
    await azure.httpClient.sendRequest(
      createPipelineRequest({ url: IMDS_URL, method: "GET", body: new Uint8Array([1, 2]), timeout: 1000 }),
    );
    expect(calls[1]?.options).toMatchObject({ endpoint: "Azure IMDS token", timeoutMs: 1000 });
    expect(Array.from(calls[1]?.options.body as Uint8Array)).toEqual([1, 2]);
  });

  it("the SDK gets the status, the headers (looked up in any case) and the body", async () => {
    const body = JSON.stringify({ access_token: "entra-access-token-0123", expires_in: 3599 });
    const { azure, secrets } = setup(
      answer(200, body, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"] }),
    );
    const response = await azure.httpClient.sendRequest(tokenRequest());
    expect(response.status).toBe(200);
    expect(response.bodyAsText).toBe(body);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("set-cookie")).toBe("a=1, b=2");
    // Registered before MSAL (and its logging) ever holds it.
    expect(secrets.redact("entra-access-token-0123")).toBe("[REDACTED]");
    expect(azure.lastFailure()).toBeUndefined();
  });
});

describe("the failure kept for the operator", () => {
  it("core's CloudCallError is kept and thrown to the SDK as it is", async () => {
    const outage = new CloudCallError({
      endpoint: ENTRA,
      fault: "server-error",
      status: 503,
      detail: "answered HTTP 503",
      attempts: 11,
      elapsedMs: 45_000,
    });
    const { azure } = setup(outage);
    expect(await rejection(azure.httpClient.sendRequest(tokenRequest()))).toBe(outage);
    expect(azure.lastFailure()).toBe(outage);
    expect(outage.message).toBe(`${ENTRA} answered HTTP 503 for 45 s (11 attempts)`);
    azure.reset();
    expect(azure.lastFailure()).toBeUndefined();
  });

  it("a 200 that is not JSON (a captive portal's page) is malformed, naming Entra and not the page", async () => {
    const page = "<html><body>Sign in to the hotel wifi</body></html>";
    const { azure } = setup(answer(200, page, { "content-type": "text/html" }));
    const error = await rejection(azure.httpClient.sendRequest(tokenRequest()));
    expect(error).toBeInstanceOf(CloudCallError);
    expect(error).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "malformed",
      endpoint: ENTRA,
      status: 200,
    });
    expect((error as Error).message).toBe(`${ENTRA} answered HTTP 200 with a body that is not JSON`);
    expect(azure.lastFailure()).toBe(error);
  });

  it.each([
    ["a bare JSON string", JSON.stringify('{"access_token":"tok-in-a-string"}')],
    ["an array", "[]"],
    ["null", "null"],
  ])("a 200 with %s is malformed, naming the endpoint and not the body", async (_what, body) => {
    const { azure } = setup(answer(200, body, { "content-type": "application/json" }));
    const error = await rejection(azure.httpClient.sendRequest(tokenRequest()));
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", fault: "malformed", endpoint: ENTRA });
    expect((error as Error).message).toBe(`${ENTRA} answered HTTP 200 with a body that is not a JSON object`);
  });

  it("a refusal that is not JSON reaches the SDK without its body (which the SDK would quote)", async () => {
    const { azure } = setup(
      answer(401, "Unauthorized: client_secret=leaked-by-a-proxy", { "www-authenticate": "Basic realm=/x" }),
    );
    const response = await azure.httpClient.sendRequest(tokenRequest());
    expect(response.status).toBe(401);
    expect(response.bodyAsText).toBe("");
    expect(response.headers.get("WWW-Authenticate")).toBe("Basic realm=/x");
    expect(azure.lastFailure()).toMatchObject({ code: "CLOUD_AUTH_FAILED", fault: "rejected", status: 401 });
    expect(azure.lastFailure()?.message).toBe(`${ENTRA} answered HTTP 401 with a body that is not JSON`);
    const bad = setup(answer(400, "<html>Bad Request</html>"));
    await bad.azure.httpClient.sendRequest(tokenRequest());
    expect(bad.azure.lastFailure()).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "malformed",
      status: 400,
    });
  });

  it("an Entra refusal goes to the SDK, and is kept as CLOUD_AUTH_FAILED: AADSTS code, short description, no link", async () => {
    const refusal = JSON.stringify({
      error: "invalid_client",
      error_description:
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: 1b2c Correlation ID: 3d4e Timestamp: 2026-06-01 00:00:00Z",
      error_codes: [7000215],
      error_uri: "https://login.microsoftonline.com/error?code=7000215",
    });
    const { azure } = setup(answer(401, refusal));
    const response = await azure.httpClient.sendRequest(tokenRequest());
    expect(response.status).toBe(401);
    const kept = azure.lastFailure();
    expect(kept).toMatchObject({
      code: "CLOUD_AUTH_FAILED",
      fault: "rejected",
      status: 401,
      faultCause: "AADSTS7000215",
    });
    expect(kept?.message).toBe(
      `${ENTRA} answered HTTP 401: AADSTS7000215: Invalid client secret provided. (invalid_client)`,
    );
  });

  it("IMDS's refusal names IMDS", async () => {
    const { azure } = setup(
      answer(400, '{"error":"invalid_request","error_description":"Identity not found"}'),
    );
    await azure.httpClient.sendRequest(createPipelineRequest({ url: IMDS_URL, method: "GET" }));
    expect(azure.lastFailure()?.message).toBe(
      "Azure IMDS token answered HTTP 400: Identity not found (invalid_request)",
    );
    expect(azure.lastFailure()?.code).toBe("CLOUD_AUTH_FAILED");
  });

  it("a redirect is not followed, and is malformed", async () => {
    const { azure } = setup(answer(302, "", { location: "https://evil.example/" }));
    expect((await azure.httpClient.sendRequest(tokenRequest())).status).toBe(302);
    expect(azure.lastFailure()).toMatchObject({ code: "INVALID_RESPONSE", fault: "malformed" });
    expect(azure.lastFailure()?.message).toBe(`${ENTRA} answered HTTP 302 (redirects are not followed)`);
  });

  it("an aborted request rejects as the SDK expects", async () => {
    const controller = new AbortController();
    controller.abort();
    const { azure, calls } = setup(answer(200, "{}"));
    const error = await rejection(
      azure.httpClient.sendRequest(tokenRequest({ abortSignal: controller.signal })),
    );
    expect((error as Error).name).toBe("AbortError");
    expect(calls).toHaveLength(1);
  });
});

describe("answers core retries besides 429 and 5xx", () => {
  const classify = async (url: string, response: HttpResponse) => {
    const { azure, calls } = setup(response);
    await azure.httpClient.sendRequest(createPipelineRequest({ url, method: "GET" })).catch(() => undefined);
    return calls[0]?.options.classify?.(response);
  };
  const entra = (fields: object) => answer(400, JSON.stringify(fields));

  it.each([
    [
      "temporarily_unavailable",
      entra({ error: "temporarily_unavailable" }),
      { fault: "server-error", cause: "temporarily_unavailable" },
    ],
    [
      "AADSTS90033 (a transient error)",
      entra({ error: "invalid_request", error_description: "AADSTS90033: A transient error has occurred." }),
      { fault: "server-error", cause: "AADSTS90033" },
    ],
    [
      "AADSTS90055 (tenant throttling)",
      entra({ error: "x", error_codes: [90055] }),
      { fault: "throttled", cause: "AADSTS90055" },
    ],
    ["a refusal", entra({ error: "invalid_client", error_description: "AADSTS7000215: bad" }), undefined],
    ["not JSON", answer(400, "<html>"), undefined],
  ])("Entra: %s", async (_name, response, verdict) => {
    expect(await classify(TOKEN_URL, response)).toEqual(verdict);
  });

  it("IMDS: 410 (being updated) is retried, 404 is not", async () => {
    expect(await classify(IMDS_URL, answer(410, "{}"))).toEqual({ fault: "server-error" });
    expect(await classify(IMDS_URL, answer(404, '{"error":"not_found"}'))).toBeUndefined();
  });
});

describe("endpoint names", () => {
  it.each([
    [TOKEN_URL, ENTRA],
    ["https://login.chinacloudapi.cn/t/oauth2/token", "Entra token (login.chinacloudapi.cn, tenant t)"],
    [
      "https://login.microsoftonline.com/tenant-1/v2.0/.well-known/openid-configuration",
      "Entra OpenID configuration (login.microsoftonline.com, tenant tenant-1)",
    ],
    [IMDS_URL, "Azure IMDS token"],
    ["http://127.0.0.1:40342/metadata/identity/oauth2/token/?x=1", "Azure IMDS token"],
    ["http://localhost:42356/msi/token?resource=x", "Azure identity localhost:42356/msi/token"],
  ])("%s: %s", (url, name) => {
    expect(azureEndpointOf(new URL(url))).toBe(name);
  });
});

describe("shortDescription", () => {
  it("the first sentence of the first line, no ids, no links, no token, at most 200 characters", () => {
    expect(
      shortDescription(
        "AADSTS700016: Application with identifier 'api://my.app' was not found in the directory 'y'. This can happen if the application has not been installed.",
      ),
    ).toBe("AADSTS700016: Application with identifier 'api://my.app' was not found in the directory 'y'.");
    expect(shortDescription("AADSTS1: bad. Trace ID: a Correlation ID: b Timestamp: c\nmore")).toBe(
      "AADSTS1: bad.",
    );
    expect(shortDescription("AADSTS2: no. See https://aka.ms/x for details")).toBe("AADSTS2: no.");
    expect(shortDescription("AADSTS3: assertion eyJhbGciOi.eyJzdWIi.c2ln is bad")).toBe(
      "AADSTS3: assertion [token] is bad",
    );
    expect(shortDescription("y".repeat(400))).toHaveLength(201);
  });
});
