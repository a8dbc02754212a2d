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
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { BearerChallenge } from "./challenge.ts";
import { parseBearerChallenge } from "./challenge.ts";

export interface ExchangeContext {
  http: HttpClient;
  log: Logger;
  secrets: SecretRegistry;
}

/**
 * Asks the login server for its challenge, and checks that its realm is on the login server.
 *
 * @throws CredentialProviderError `INVALID_RESPONSE` for no or a malformed challenge, or a realm
 *   elsewhere; `CLOUD_UNAVAILABLE`/`CLOUD_THROTTLED` from the HTTP client.
 */
export async function fetchChallenge(
  loginServer: string,
  { http, log }: ExchangeContext,
): Promise<BearerChallenge> {
  const url = `https://${loginServer}/v2/`;
  log.v(4, `GET ${url} for the registry's challenge`);
  const response = await http.request(url, { method: "GET" });
  let challenge: BearerChallenge;
  try {
    challenge = parseBearerChallenge(response.status, response.headers["www-authenticate"]);
  } catch (error) {
    if (error instanceof CredentialProviderError) {
      throw new CredentialProviderError(error.code, `GET ${url}: ${error.message}`, { cause: error });
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
 * @throws CredentialProviderError `CLOUD_AUTH_FAILED` when the registry refuses the token,
 *   `INVALID_RESPONSE` for an answer without a refresh token, `CLOUD_UNAVAILABLE`/`CLOUD_THROTTLED`
 *   from the HTTP client.
 */
export async function exchangeForRefreshToken(
  request: ExchangeRequest,
  { http, log, secrets }: ExchangeContext,
): Promise<string> {
  const url = `https://${request.loginServer}/oauth2/exchange`;
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
  });
  if (response.status !== 200) throw _refused(url, response);
  let body: unknown;
  try {
    body = JSON.parse(response.text());
  } catch {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `POST ${url} answered 200 with a body that is not JSON`,
    );
  }
  const refreshToken =
    typeof body === "object" && body !== null
      ? (body as { refresh_token?: unknown }).refresh_token
      : undefined;
  if (typeof refreshToken === "string") secrets.add(refreshToken);
  if (typeof refreshToken !== "string" || refreshToken.trim() === "") {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `POST ${url} answered 200 without a refresh_token string`,
    );
  }
  return refreshToken;
}

function _refused(url: string, response: HttpResponse): CredentialProviderError {
  const detail = _errorDetail(response);
  const what = `POST ${url} answered ${response.status}${detail ? `: ${detail}` : ""}`;
  if (response.status >= 300 && response.status < 400) {
    return new CredentialProviderError("INVALID_RESPONSE", `${what} (redirects are not followed)`);
  }
  if (response.status === 401 || response.status === 403) {
    return new CredentialProviderError(
      "CLOUD_AUTH_FAILED",
      `${what} (the identity needs the AcrPull role on the registry, and the token must be for its tenant)`,
    );
  }
  return new CredentialProviderError("CLOUD_AUTH_FAILED", what);
}

/** ACR's `{"errors":[{"code","message"}]}`, or the first line of the body, short. */
function _errorDetail(response: HttpResponse): string {
  const text = response.text();
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = Array.isArray(parsed.errors) ? parsed.errors[0] : undefined;
    if (first && (typeof first.code === "string" || typeof first.message === "string")) {
      return [first.code, first.message]
        .filter((part) => typeof part === "string")
        .join(": ")
        .slice(0, 200);
    }
  } catch {
    // not JSON: the first line below
  }
  const line = (text.split(/\r?\n/, 1)[0] ?? "").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
