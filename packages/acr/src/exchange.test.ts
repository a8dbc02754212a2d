import type { HttpClient, HttpRequestOptions, HttpResponse } from "@kubelet-credential-provider/core";
import {
  CredentialProviderError,
  createHttpResponse,
  createLogger,
  SecretRegistry,
} from "@kubelet-credential-provider/core";
import { describe, expect, it } from "vitest";
import { checkRealm, exchangeForRefreshToken, fetchChallenge } from "./exchange.ts";

const SERVER = "myacr.azurecr.io";
const CHALLENGE = `Bearer realm="https://${SERVER}/oauth2/token",service="${SERVER}"`;
const REFRESH = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3NDg3NDMyMDB9.acr-refresh-signature";
const ENTRA = "entra-access-token-abcdef0123456789";

const CHALLENGE_ENDPOINT = `ACR challenge (${SERVER})`;
const EXCHANGE_ENDPOINT = `ACR exchange (${SERVER})`;

const response = (status: number, body = "", headers: Record<string, string> = {}) =>
  createHttpResponse(status, body, headers, EXCHANGE_ENDPOINT);

function fakeHttp(...answers: Array<HttpResponse | Error>) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const http: HttpClient = {
    async request(url, options = {}) {
      calls.push({ url: String(url), options });
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected call to ${url}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const secrets = new SecretRegistry();
  const lines: string[] = [];
  const log = createLogger({
    name: "t",
    verbosity: 10,
    secrets,
    sink: { write: (l: string) => lines.push(l) },
  });
  return { context: { http, log, secrets }, calls, lines, secrets };
}

async function failure(promise: Promise<unknown>): Promise<CredentialProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof CredentialProviderError) return error;
  throw new Error(`expected a typed error, got ${String(error)}`);
}

describe("fetchChallenge", () => {
  it("GETs https://<login server>/v2/ and reads the Bearer challenge", async () => {
    const { context, calls } = fakeHttp(response(401, "", { "www-authenticate": CHALLENGE }));
    expect(await fetchChallenge(SERVER, context)).toMatchObject({
      realm: `https://${SERVER}/oauth2/token`,
      service: SERVER,
    });
    expect(calls).toEqual([
      { url: `https://${SERVER}/v2/`, options: { method: "GET", endpoint: CHALLENGE_ENDPOINT } },
    ]);
  });

  it.each([
    [
      "another host",
      `Bearer realm="https://evil.example/oauth2/token",service="${SERVER}"`,
      "is not on the login server",
    ],
    [
      "a look-alike host",
      `Bearer realm="https://${SERVER}.evil.example/token",service="${SERVER}"`,
      "is not on the login server",
    ],
    [
      "another port",
      `Bearer realm="https://${SERVER}:8443/oauth2/token",service="${SERVER}"`,
      "is not on the login server",
    ],
    ["plain http", `Bearer realm="http://${SERVER}/oauth2/token",service="${SERVER}"`, "is not https"],
    [
      "user information",
      `Bearer realm="https://${SERVER}@evil.example/x",service="${SERVER}"`,
      "carries user information",
    ],
    ["not a URL", `Bearer realm="${SERVER}/oauth2/token",service="${SERVER}"`, "is not a URL"],
  ])("refuses a realm on %s: no token is ever sent", async (_name, header, reason) => {
    const { context, calls } = fakeHttp(response(401, "", { "www-authenticate": header }));
    const error = await failure(fetchChallenge(SERVER, context));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toContain(reason);
    expect(error.message).toContain("refusing to send the Entra token there");
    expect(calls).toHaveLength(1);
  });

  it("accepts the realm on the login server with an explicit :443 and any case", () => {
    expect(checkRealm(`https://MYACR.azurecr.io:443/oauth2/token`, SERVER).hostname).toBe(SERVER);
  });

  it("a 200 (anonymous pull) or a missing header is a malformed answer naming the endpoint", async () => {
    const ok = await failure(fetchChallenge(SERVER, fakeHttp(response(200)).context));
    expect(ok).toMatchObject({
      code: "INVALID_RESPONSE",
      fault: "malformed",
      endpoint: CHALLENGE_ENDPOINT,
      status: 200,
    });
    expect(ok.message).toBe(
      `${CHALLENGE_ENDPOINT} answered HTTP 200: no valid challenge: expected 401 with a Bearer challenge, got 200`,
    );
    const bare = await failure(fetchChallenge(SERVER, fakeHttp(response(401)).context));
    expect(bare.message).toContain("no Www-Authenticate header");
  });

  it("passes the HTTP client's typed errors through", async () => {
    const down = new CredentialProviderError("CLOUD_UNAVAILABLE", "GET https://x/v2/ answered 503");
    expect(await failure(fetchChallenge(SERVER, fakeHttp(down).context))).toBe(down);
  });
});

describe("exchangeForRefreshToken", () => {
  const request = { loginServer: SERVER, service: SERVER, tenant: "tenant-1", accessToken: ENTRA };

  it("POSTs the form to /oauth2/exchange and returns the refresh token, registered as a secret", async () => {
    const { context, calls, secrets, lines } = fakeHttp(
      response(200, JSON.stringify({ refresh_token: REFRESH })),
    );
    expect(await exchangeForRefreshToken(request, context)).toBe(REFRESH);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call?.url).toBe(`https://${SERVER}/oauth2/exchange`);
    expect(call?.options.method).toBe("POST");
    expect(call?.options.endpoint).toBe(EXCHANGE_ENDPOINT);
    expect(call?.options.headers).toMatchObject({ "content-type": "application/x-www-form-urlencoded" });
    expect(Object.fromEntries(new URLSearchParams(String(call?.options.body)))).toEqual({
      grant_type: "access_token",
      service: SERVER,
      tenant: "tenant-1",
      access_token: ENTRA,
    });
    expect(secrets.redact(REFRESH)).toBe("[REDACTED]");
    expect(lines.join("")).not.toContain(ENTRA);
  });

  it("leaves tenant out when there is none", async () => {
    const { context, calls } = fakeHttp(response(200, JSON.stringify({ refresh_token: REFRESH })));
    await exchangeForRefreshToken({ loginServer: SERVER, service: SERVER, accessToken: ENTRA }, context);
    expect(new URLSearchParams(String(calls[0]?.options.body)).has("tenant")).toBe(false);
  });

  it.each([
    [
      401,
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
      "CLOUD_AUTH_FAILED",
      `${EXCHANGE_ENDPOINT} answered HTTP 401 (UNAUTHORIZED): the identity needs the AcrPull role on the registry, and the token must be for its tenant`,
    ],
    [
      403,
      "forbidden\nmore",
      "CLOUD_AUTH_FAILED",
      `${EXCHANGE_ENDPOINT} answered HTTP 403: the identity needs the AcrPull role on the registry, and the token must be for its tenant`,
    ],
    [400, '{"error":"bad"}', "CLOUD_AUTH_FAILED", `${EXCHANGE_ENDPOINT} answered HTTP 400`],
    [
      400,
      '{"errors":[{"code":"refresh_token=eyJsecret","message":"x"}]}',
      "CLOUD_AUTH_FAILED",
      `${EXCHANGE_ENDPOINT} answered HTTP 400`,
    ],
    [302, "", "INVALID_RESPONSE", `${EXCHANGE_ENDPOINT} answered HTTP 302 (redirects are not followed)`],
  ])(
    "an answer %i is %s, naming the endpoint and quoting nothing of the body",
    async (status, body, code, message) => {
      const error = await failure(exchangeForRefreshToken(request, fakeHttp(response(status, body)).context));
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
    },
  );

  it.each([
    ["not JSON", "<html>oops</html>", "with a body that is not JSON"],
    ["no refresh_token", '{"access_token":"x"}', "without a refresh_token string"],
    ["an empty refresh_token", '{"refresh_token":""}', "without a refresh_token string"],
    ["a number", '{"refresh_token":42}', "without a refresh_token string"],
    ["null", "null", "without a refresh_token string"],
  ])(
    "a malformed answer (%s) is INVALID_RESPONSE, naming the endpoint and not the body",
    async (_name, body, message) => {
      const error = await failure(exchangeForRefreshToken(request, fakeHttp(response(200, body)).context));
      expect(error).toMatchObject({
        code: "INVALID_RESPONSE",
        fault: "malformed",
        endpoint: EXCHANGE_ENDPOINT,
      });
      expect(error.message).toBe(`${EXCHANGE_ENDPOINT} answered HTTP 200 ${message}`);
    },
  );

  it("passes throttling and outages from the HTTP client through", async () => {
    const throttled = new CredentialProviderError("CLOUD_THROTTLED", "answered 429");
    expect(await failure(exchangeForRefreshToken(request, fakeHttp(throttled).context))).toBe(throttled);
  });
});
