/**
 * Application Default Credentials from the file GOOGLE_APPLICATION_CREDENTIALS names, read and
 * checked before any call, then turned into an access token by this package's own modules on
 * core's HTTP client. The file's secrets (private key, client secret, refresh token) are
 * registered as it is read; errors name the file and the field, never a value.
 *
 * Supported `type`s: `service_account` (oauth2.ts, the JWT bearer grant), `authorized_user`
 * (oauth2.ts, the refresh token grant), `external_account` with a file or url credential_source
 * (external-account.ts), and `impersonated_service_account` over any of those (iam.ts). Any other
 * type (`external_account_authorized_user`, `gdch_service_account`, ...) is CONFIG_INVALID naming
 * it.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { ExternalAccount, ExternalAccountContext } from "./external-account.ts";
import { externalAccountToken, parseExternalAccount, parseImpersonationUrl } from "./external-account.ts";
import { generateAccessToken } from "./iam.ts";
import type { GoogleAccessToken } from "./identity.ts";
import type { AuthorizedUser, ServiceAccountKey } from "./oauth2.ts";
import { authorizedUserToken, GOOGLE_OAUTH2_TOKEN_URL, serviceAccountKeyToken } from "./oauth2.ts";

export const SUPPORTED_CREDENTIAL_TYPES = [
  "service_account",
  "authorized_user",
  "external_account",
  "impersonated_service_account",
] as const;

/** A credentials file, checked. */
export type AdcCredentials =
  | { type: "service_account"; key: ServiceAccountKey }
  | { type: "authorized_user"; user: AuthorizedUser }
  | { type: "external_account"; account: ExternalAccount }
  | {
      type: "impersonated_service_account";
      source: Exclude<AdcCredentials, { type: "impersonated_service_account" }>;
      email: string;
      url: string;
      delegates: string[];
    };

const _SECRET_FIELDS = ["private_key", "client_secret", "refresh_token"] as const;

/**
 * Reads an Application Default Credentials file and registers its secrets.
 *
 * @throws CredentialProviderError `CONFIG_INVALID`
 */
export async function readCredentialsFile(
  file: string,
  context: Pick<ExternalAccountContext, "secrets">,
  readFile: (path: string) => Promise<string> = (path) =>
    process.getBuiltinModule("node:fs/promises").readFile(path, "utf8"),
): Promise<Record<string, unknown>> {
  const fail = _failure(file);
  let text: string;
  try {
    text = await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw fail(
      code === "ENOENT" ? "no such file" : `cannot be read (${typeof code === "string" ? code : "error"})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail("is not JSON");
  }
  if (!_isObject(json)) throw fail("is not a JSON object");
  _registerSecrets(json, context.secrets);
  if (typeof json.type !== "string") throw fail(`has no type (${SUPPORTED_CREDENTIAL_TYPES.join(", ")})`);
  return json;
}

/**
 * Checks a credentials file's fields for its type.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` naming the file and the field or the type
 */
export function parseCredentials(json: Record<string, unknown>, file: string): AdcCredentials {
  const fail = _failure(file);
  const type = json.type;
  switch (type) {
    case "service_account":
      return {
        type,
        key: {
          clientEmail: _string(json, "client_email", fail),
          privateKey: _string(json, "private_key", fail),
          ...(typeof json.private_key_id === "string" &&
            json.private_key_id && { privateKeyId: json.private_key_id }),
          tokenUri: _tokenUri(json.token_uri, fail),
        },
      };
    case "authorized_user":
      return {
        type,
        user: {
          clientId: _string(json, "client_id", fail),
          clientSecret: _string(json, "client_secret", fail),
          refreshToken: _string(json, "refresh_token", fail),
          tokenUri: _tokenUri(json.token_uri, fail),
        },
      };
    case "external_account":
      return { type, account: parseExternalAccount(json, fail) };
    case "impersonated_service_account": {
      const target = parseImpersonationUrl(json.service_account_impersonation_url, fail);
      const sourceJson = json.source_credentials;
      if (!_isObject(sourceJson)) throw fail("has no source_credentials object");
      const source = parseCredentials(sourceJson, `${file} (source_credentials)`);
      if (source.type === "impersonated_service_account") {
        throw fail("source_credentials of type impersonated_service_account are not supported");
      }
      const delegates = json.delegates ?? [];
      if (!Array.isArray(delegates) || !delegates.every((d) => typeof d === "string")) {
        throw fail("delegates is not a list of service accounts");
      }
      return { type, source, email: target.email, url: target.url, delegates };
    }
    default:
      throw fail(
        `credentials of type ${JSON.stringify(String(type).slice(0, 60))} are not supported (supported: ${SUPPORTED_CREDENTIAL_TYPES.join(", ")})`,
      );
  }
}

/**
 * The access token of checked credentials.
 *
 * @throws CloudCallError from Google's endpoints; CredentialProviderError `CONFIG_INVALID`
 */
export async function credentialsToken(
  credentials: AdcCredentials,
  context: ExternalAccountContext,
): Promise<GoogleAccessToken> {
  switch (credentials.type) {
    case "service_account":
      return serviceAccountKeyToken(credentials.key, context);
    case "authorized_user":
      return authorizedUserToken(credentials.user, context);
    case "external_account":
      return externalAccountToken(credentials.account, context);
    case "impersonated_service_account": {
      const source = await credentialsToken(credentials.source, context);
      return generateAccessToken(
        {
          email: credentials.email,
          url: credentials.url,
          sourceToken: source.token,
          delegates: credentials.delegates,
        },
        context,
      );
    }
  }
}

function _failure(file: string) {
  return (reason: string) =>
    new CredentialProviderError("CONFIG_INVALID", `GOOGLE_APPLICATION_CREDENTIALS ${file}: ${reason}`);
}

function _registerSecrets(json: Record<string, unknown>, secrets: ExternalAccountContext["secrets"]): void {
  for (const key of _SECRET_FIELDS) {
    const value = json[key];
    if (typeof value === "string") secrets.add(value);
  }
  if (_isObject(json.source_credentials)) _registerSecrets(json.source_credentials, secrets);
}

function _string(json: Record<string, unknown>, key: string, fail: (reason: string) => Error): string {
  const value = json[key];
  if (typeof value !== "string" || value.trim() === "") throw fail(`has no ${key}`);
  return value;
}

function _tokenUri(value: unknown, fail: (reason: string) => Error): string {
  if (value === undefined) return GOOGLE_OAUTH2_TOKEN_URL;
  const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== "https:" || url.username || url.password) throw fail("token_uri is not an https URL");
  return url.href;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
