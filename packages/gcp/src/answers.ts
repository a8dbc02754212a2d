/**
 * Google's answers, read strictly and reported without quoting them. Every token this package
 * gets (metadata server, OAuth2, STS, IAM credentials) is read here, so that three rules hold by
 * construction for all of them:
 *
 * - An error names the endpoint and what was wrong with the answer (its status, "not JSON", "no
 *   access_token"), never the body or any part of it but the cloud's error code, and that only
 *   when it is a bare word (`invalid_grant`, `PERMISSION_DENIED`): a body that did not parse is
 *   exactly the one whose secret nobody has registered yet.
 * - The token is registered as a secret as soon as it is read, before anything else can fail.
 * - Every token has a known expiry, in the future by more than a minute (core's
 *   `assertCredentialFresh`). `expires_in: 0` or negative, an `expireTime` past, is an expired
 *   token, not one "without expiry". A missing `expires_in` is a `malformed` answer: every Google
 *   token endpoint sends one, and a token of unknown lifetime could be neither cached nor trusted
 *   to outlive the pull.
 */
import type { HttpClient, HttpResponse, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { assertCredentialFresh, CloudCallError } from "@kubelet-credential-provider/core";
import type { GoogleAccessToken } from "./identity.ts";

/** What a call to Google needs. */
export interface CallContext {
  http: HttpClient;
  log: Logger;
  secrets: SecretRegistry;
  /** The clock, in ms since the epoch. */
  now: () => number;
}

// OAuth's error codes are lower_snake_case, Google APIs' statuses UPPER_SNAKE_CASE: a word like
// that is the cloud's diagnosis, never a credential.
const _OAUTH_ERROR = /^[a-z][a-z_]{0,39}$/;
const _API_STATUS = /^[A-Z][A-Z_]{0,39}$/;
// A bearer token is printable ASCII without spaces (RFC 6750's b64token and more).
const _TOKEN = /^[\x21-\x7e]+$/;

/** A `malformed` answer of `endpoint`. */
export function malformed(endpoint: string, status: number, what: string): CloudCallError {
  return new CloudCallError({
    endpoint,
    fault: "malformed",
    status,
    detail: `answered HTTP ${status} ${what}`,
  });
}

/**
 * The error for an answer that is not the 200 asked for: 4xx is a refusal (`rejected`), a
 * redirect is not followed, 5xx that core returned (501) is a server error.
 *
 * @param hint what usually causes a refusal here, for the operator
 */
export function refusal(response: HttpResponse, endpoint: string, hint?: string): CloudCallError {
  const { status } = response;
  const code = cloudErrorCode(response);
  const what = code ? `HTTP ${status}, ${code}` : `HTTP ${status}`;
  if (status >= 300 && status < 400) {
    return new CloudCallError({
      endpoint,
      fault: "malformed",
      status,
      detail: `answered ${what}, a redirect (redirects are not followed)`,
    });
  }
  if (status >= 500) {
    return new CloudCallError({
      endpoint,
      fault: "server-error",
      status,
      cause: code,
      detail: `answered ${what}`,
    });
  }
  if (status >= 400) {
    return new CloudCallError({
      endpoint,
      fault: "rejected",
      status,
      cause: code,
      detail: `refused the request (${what})${hint ? `: ${hint}` : ""}`,
    });
  }
  return new CloudCallError({ endpoint, fault: "malformed", status, detail: `answered ${what}, not 200` });
}

/**
 * The cloud's error code in an error answer, when it is a bare word: OAuth's `{"error": "..."}`
 * or a Google API's `{"error": {"status": "..."}}`.
 */
export function cloudErrorCode(response: HttpResponse): string | undefined {
  const body = _parse(response);
  if (!_isObject(body)) return undefined;
  const error = body.error;
  if (typeof error === "string") return _OAUTH_ERROR.test(error) ? error : undefined;
  if (_isObject(error) && typeof error.status === "string") {
    return _API_STATUS.test(error.status) ? error.status : undefined;
  }
  return undefined;
}

/** The body of a 200 answer as a JSON object. */
export function jsonObject(response: HttpResponse, endpoint: string): Record<string, unknown> {
  const body = _parse(response);
  if (body === _NOT_JSON) throw malformed(endpoint, response.status, "with a body that is not JSON");
  if (!_isObject(body)) {
    throw malformed(endpoint, response.status, `with JSON that is not an object (${_kind(body)})`);
  }
  return body;
}

/**
 * An OAuth token answer (`{access_token, expires_in, token_type}`): the metadata server's,
 * OAuth2's, STS's.
 *
 * @throws CloudCallError `rejected` for a refusal, `malformed` for an answer that is not a token
 *   with an expiry, `expired` for a token that expires within a minute.
 */
export function readTokenAnswer(
  response: HttpResponse,
  endpoint: string,
  context: Pick<CallContext, "secrets" | "now">,
  hint?: string,
): GoogleAccessToken {
  return _readToken(
    response,
    endpoint,
    context,
    hint,
    "access_token",
    (body, now) => now + _seconds(body.expires_in, response.status, endpoint) * 1000,
  );
}

/**
 * IAM credentials' generateAccessToken answer (`{accessToken, expireTime}`).
 *
 * @throws CloudCallError as {@link readTokenAnswer}
 */
export function readIamTokenAnswer(
  response: HttpResponse,
  endpoint: string,
  context: Pick<CallContext, "secrets" | "now">,
  hint?: string,
): GoogleAccessToken {
  return _readToken(response, endpoint, context, hint, "accessToken", (body) => {
    const expireTime = body.expireTime;
    if (expireTime === undefined || expireTime === null) {
      throw malformed(endpoint, response.status, "without an expireTime");
    }
    const expiry = typeof expireTime === "string" ? Date.parse(expireTime) : Number.NaN;
    if (!Number.isFinite(expiry)) {
      throw malformed(endpoint, response.status, "with an expireTime that is not an RFC 3339 time");
    }
    return expiry;
  });
}

/**
 * A token answer: a refusal unless 200, then the token in `field` (registered as a secret first),
 * then its expiry in ms since the epoch as `expiry` reads it, which must be fresh.
 */
function _readToken(
  response: HttpResponse,
  endpoint: string,
  context: Pick<CallContext, "secrets" | "now">,
  hint: string | undefined,
  field: "access_token" | "accessToken",
  expiry: (body: Record<string, unknown>, now: number) => number,
): GoogleAccessToken {
  if (response.status !== 200) throw refusal(response, endpoint, hint);
  const now = context.now();
  const body = jsonObject(response, endpoint);
  const token = _token(body[field], field, response.status, endpoint, context.secrets);
  const expiresAt = expiry(body, now);
  assertCredentialFresh(expiresAt, endpoint, now);
  return { token, expiresAt: new Date(expiresAt) };
}

function _token(
  value: unknown,
  field: string,
  status: number,
  endpoint: string,
  secrets: SecretRegistry,
): string {
  if (typeof value === "string") secrets.add(value);
  if (typeof value !== "string" || value === "") throw malformed(endpoint, status, `without an ${field}`);
  if (!_TOKEN.test(value)) throw malformed(endpoint, status, `with an ${field} that is not a bearer token`);
  return value;
}

function _seconds(value: unknown, status: number, endpoint: string): number {
  if (value === undefined || value === null) {
    throw malformed(endpoint, status, "without expires_in (the token's lifetime is unknown)");
  }
  const seconds = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
    throw malformed(endpoint, status, "with an expires_in that is not a number of seconds");
  }
  return seconds;
}

const _NOT_JSON = Symbol("not JSON");

function _parse(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.text());
  } catch {
    return _NOT_JSON;
  }
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function _kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
