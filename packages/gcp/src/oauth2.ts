/**
 * Google's OAuth2 token endpoint for Application Default Credentials files, through core's HTTP
 * client (endpoint "Google OAuth2 token"):
 *
 * - a service account key (`service_account`): the JWT bearer grant (RFC 7523), an assertion
 *   signed RS256 with the key's private key by node:crypto, claims as Google documents them
 *   (`iss` the account, `scope`, `aud` the key's `token_uri`, `iat`, `exp` an hour later);
 * - a user's refresh token (`authorized_user`, as `gcloud auth application-default login`
 *   writes): the refresh_token grant with the file's OAuth client.
 *
 * node:crypto is taken on first use, not at import: nothing here runs at start-up.
 */
import type { KeyObject } from "node:crypto";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { CallContext } from "./answers.ts";
import { readTokenAnswer } from "./answers.ts";
import type { GoogleAccessToken } from "./identity.ts";
import { CLOUD_PLATFORM_SCOPE } from "./sts.ts";

export const GOOGLE_OAUTH2_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** How long an assertion is good for: the most Google accepts. */
export const ASSERTION_LIFETIME_SECONDS = 3600;

export interface ServiceAccountKey {
  clientEmail: string;
  /** The PEM private key. */
  privateKey: string;
  privateKeyId?: string;
  /** Where to exchange the assertion; also its `aud`. */
  tokenUri: string;
}

export interface AuthorizedUser {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  tokenUri: string;
}

/** The endpoint in words. */
export function oauth2Endpoint(who: string): string {
  return `Google OAuth2 token (${who})`;
}

/**
 * The signed JWT bearer assertion of a service account key.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the private key is not an RSA PEM key.
 */
export function signJwtAssertion(
  key: ServiceAccountKey,
  nowMs: number,
  scope = CLOUD_PLATFORM_SCOPE,
): string {
  const crypto = process.getBuiltinModule("node:crypto");
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key.privateKey);
  } catch {
    // node:crypto's message is not repeated: it could describe the key.
    throw _badKey(key, "is not a PEM private key");
  }
  if (privateKey.asymmetricKeyType !== "rsa") throw _badKey(key, "is not an RSA key (Google signs RS256)");
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.privateKeyId && { kid: key.privateKeyId }) };
  const claims = {
    iss: key.clientEmail,
    scope,
    aud: key.tokenUri,
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
  };
  const input = `${_base64url(JSON.stringify(header))}.${_base64url(JSON.stringify(claims))}`;
  const signature = crypto.sign("sha256", Buffer.from(input), privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

/**
 * A service account key's access token: the JWT bearer grant.
 *
 * @throws CloudCallError `rejected` when Google refuses the assertion (a deleted key, a wrong
 *   clock), `malformed`, `expired`, and what core's client throws; CredentialProviderError
 *   `CONFIG_INVALID` for an unusable key.
 */
export async function serviceAccountKeyToken(
  key: ServiceAccountKey,
  context: CallContext,
): Promise<GoogleAccessToken> {
  const assertion = signJwtAssertion(key, context.now());
  // The assertion is a bearer grant for an hour.
  context.secrets.add(assertion);
  return _grant(
    key.tokenUri,
    oauth2Endpoint(key.clientEmail),
    { grant_type: JWT_BEARER_GRANT, assertion },
    context,
    "the key may be deleted or disabled, or the node's clock wrong",
  );
}

/**
 * A user's access token from its refresh token.
 *
 * @throws CloudCallError `rejected` when Google refuses the refresh token (revoked, expired),
 *   `malformed`, `expired`, and what core's client throws.
 */
export async function authorizedUserToken(
  user: AuthorizedUser,
  context: CallContext,
): Promise<GoogleAccessToken> {
  context.secrets.add(user.refreshToken);
  context.secrets.add(user.clientSecret);
  return _grant(
    user.tokenUri,
    oauth2Endpoint("authorized user"),
    {
      grant_type: "refresh_token",
      client_id: user.clientId,
      client_secret: user.clientSecret,
      refresh_token: user.refreshToken,
    },
    context,
    "the refresh token may be revoked or expired: run gcloud auth application-default login again",
  );
}

async function _grant(
  url: string,
  endpoint: string,
  form: Record<string, string>,
  context: CallContext,
  hint: string,
): Promise<GoogleAccessToken> {
  context.log.v(4, `${endpoint}: POST ${url}, grant ${form.grant_type}`);
  const response = await context.http.request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(form).toString(),
    endpoint,
  });
  return readTokenAnswer(
    response,
    endpoint,
    context,
    response.status === 400 || response.status === 401 ? hint : undefined,
  );
}

function _badKey(key: ServiceAccountKey, what: string): CredentialProviderError {
  return new CredentialProviderError(
    "CONFIG_INVALID",
    `the service account key of ${key.clientEmail}: private_key ${what}`,
  );
}

function _base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
