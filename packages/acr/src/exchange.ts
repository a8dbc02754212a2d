/**
 * The ACR token exchange, through core's HTTP client (timeouts, retries, proxy, no redirects):
 *
 * 1. `GET https://<login server>/v2/` answers 401 with a Bearer challenge (challenge.ts). Its realm
 *    must be an https URL on the login server itself: the Entra token is never sent elsewhere.
 * 2. `POST https://<login server>/oauth2/exchange` with the form grant_type=access_token, service,
 *    tenant, access_token (the Entra token) answers `{"refresh_token": "..."}`: the registry
 *    password, for the username 00000000-0000-0000-0000-000000000000.
 */
import type { HttpClient, HttpResponse, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import type { BearerChallenge } from "./challenge.ts";
import { parseBearerChallenge } from "./challenge.ts";
import { acrChallengeEndpoint, acrExchangeEndpoint } from "./endpoints.ts";

export interface ExchangeContext {
  http: HttpClient;
  log: Logger;
  secrets: SecretRegistry;
}

/**
 * Asks the login server for its challenge, and checks that its realm is on the login server.
 *
 * @throws CloudCallError `INVALID_RESPONSE` (fault `malformed`) for no or a malformed challenge;
 *   CredentialProviderError `INVALID_RESPONSE` for a realm elsewhere; the HTTP client's failures.
 */
export async function fetchChallenge(
  loginServer: string,
  { http, log }: ExchangeContext,
): Promise<BearerChallenge> {
  const url = `https://${loginServer}/v2/`;
  const endpoint = acrChallengeEndpoint(loginServer);
  log.v(4, `GET ${url} for the registry's challenge`);
  const response = await http.request(url, { method: "GET", endpoint });
  let challenge: BearerChallenge;
  try {
    challenge = parseBearerChallenge(response.status, response.headers["www-authenticate"]);
  } catch (error) {
    if (error instanceof CredentialProviderError) {
      throw new CloudCallError(
        {
          endpoint,
          fault: "malformed",
          status: response.status,
          detail: `answered HTTP ${response.status}: ${error.message}`,
        },
        { cause: error },
      );
    }
    throw error;
  }
  checkRealm(challenge.realm, loginServer);
  if (challenge.service.toLowerCase() !== loginServer) {
    log.v(
      2,
      `${loginServer}'s challenge names the service ${JSON.stringify(challenge.service.slice(0, 100))}`,
    );
  }
  log.v(4, `challenge from ${loginServer}: realm ${challenge.realm}, service ${challenge.service}`);
  return challenge;
}

/**
 * Refuses a realm that is not `https://<loginServer>[:443]/...`.
 *
 * @throws CredentialProviderError `INVALID_RESPONSE`
 */
export function checkRealm(realm: string, loginServer: string): URL {
  const fail = (reason: string) =>
    new CredentialProviderError(
      "INVALID_RESPONSE",
      `${loginServer}'s challenge realm ${JSON.stringify(realm.slice(0, 200))} ${reason}: refusing to send the Entra token there`,
    );
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw fail("is not a URL");
  }
  if (url.protocol !== "https:") throw fail("is not https");
  if (url.username !== "" || url.password !== "") throw fail("carries user information");
  if (url.hostname.toLowerCase() !== loginServer || (url.port !== "" && url.port !== "443")) {
    throw fail("is not on the login server");
  }
  return url;
}

export interface ExchangeRequest {
  loginServer: string;
  /** The service the challenge named. */
  service: string;
  /** The Entra tenant, when known. */
  tenant?: string;
  /** The Entra access token for ACR's scope. */
  accessToken: string;
}

/**
 * Exchanges an Entra access token for an ACR refresh token, registered as a secret.
 *
 * @throws CloudCallError `CLOUD_AUTH_FAILED` (fault `rejected`) when the registry refuses the
 *   token, `INVALID_RESPONSE` (fault `malformed`) for an answer without a refresh token or a
 *   redirect; the HTTP client's failures (throttling, outages, an answer over its size cap).
 */
export async function exchangeForRefreshToken(
  request: ExchangeRequest,
  { http, log, secrets }: ExchangeContext,
): Promise<string> {
  const url = `https://${request.loginServer}/oauth2/exchange`;
  const endpoint = acrExchangeEndpoint(request.loginServer);
  const form = new URLSearchParams({ grant_type: "access_token", service: request.service });
  if (request.tenant) form.set("tenant", request.tenant);
  form.set("access_token", request.accessToken);
  log.v(
    4,
    `POST ${url} (grant_type=access_token, service=${request.service}, tenant=${request.tenant ?? "(none)"})`,
  );
  const response = await http.request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: form.toString(),
    endpoint,
  });
  if (response.status !== 200) throw _refused(endpoint, response);
  // A body that is not JSON is core's `malformed` failure, naming the endpoint and not the body.
  const body = response.json();
  const refreshToken =
    typeof body === "object" && body !== null
      ? (body as { refresh_token?: unknown }).refresh_token
      : undefined;
  if (typeof refreshToken === "string") secrets.add(refreshToken);
  if (typeof refreshToken !== "string" || refreshToken.trim() === "") {
    throw new CloudCallError({
      endpoint,
      fault: "malformed",
      status: 200,
      detail: "answered HTTP 200 without a refresh_token string",
    });
  }
  return refreshToken;
}

function _refused(endpoint: string, response: HttpResponse): CloudCallError {
  const status = response.status;
  const code = _errorCode(response);
  const what = `answered HTTP ${status}${code ? ` (${code})` : ""}`;
  if (status >= 300 && status < 400) {
    return new CloudCallError({
      endpoint,
      fault: "malformed",
      status,
      detail: `${what} (redirects are not followed)`,
    });
  }
  if (status === 401 || status === 403) {
    return new CloudCallError({
      endpoint,
      fault: "rejected",
      status,
      ...(code && { cause: code }),
      detail: `${what}: the identity needs the AcrPull role on the registry, and the token must be for its tenant`,
    });
  }
  return new CloudCallError({
    endpoint,
    fault: "rejected",
    status,
    ...(code && { cause: code }),
    detail: what,
  });
}

/**
 * ACR's error code (`{"errors":[{"code":"UNAUTHORIZED",...}]}`), when it is one: a word of
 * capitals, never the message or any other part of the body.
 */
function _errorCode(response: HttpResponse): string | undefined {
  if (response.body.length > 64 * 1024) return undefined;
  try {
    const parsed = JSON.parse(response.text()) as { errors?: Array<{ code?: unknown }> };
    const code = Array.isArray(parsed.errors) ? parsed.errors[0]?.code : undefined;
    return typeof code === "string" && /^[A-Z][A-Z_]{0,63}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
