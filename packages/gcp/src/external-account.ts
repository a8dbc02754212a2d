/**
 * Workload identity federation from an `external_account` credentials file (the kind
 * `gcloud iam workload-identity-pools create-cred-config` writes): the subject token from the
 * file's `credential_source`, exchanged at STS for the pool's federated token, then, when the file
 * names a `service_account_impersonation_url`, that service account's token from IAM credentials.
 * Every call goes through core's HTTP client.
 *
 * A `credential_source` that is a `file` or a `url` (`format` text or json) is supported. AWS
 * (`environment_id`), executable and certificate sources are not: they are refused with
 * CONFIG_INVALID naming the source, never tried half-way.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type { CallContext } from "./answers.ts";
import { jsonObject, malformed, refusal } from "./answers.ts";
import { generateAccessToken } from "./iam.ts";
import type { GoogleAccessToken } from "./identity.ts";
import { exchangeAtSts, STS_TOKEN_URL } from "./sts.ts";

export type SubjectTokenFormat = { type: "text" } | { type: "json"; field: string };

export type SubjectTokenSource =
  | { kind: "file"; path: string; format: SubjectTokenFormat }
  | { kind: "url"; url: string; headers: Record<string, string>; format: SubjectTokenFormat };

/** What the provider needs of a service account impersonation URL. */
export interface ImpersonationTarget {
  url: string;
  email: string;
  lifetimeSeconds?: number;
}

export interface ExternalAccount {
  audience: string;
  subjectTokenType: string;
  tokenUrl: string;
  source: SubjectTokenSource;
  impersonation?: ImpersonationTarget;
  client?: { id: string; secret?: string };
  /** A workforce pool's project to bill. */
  userProject?: string;
}

export interface ExternalAccountContext extends CallContext {
  /** Reads a `credential_source.file`; default node:fs. */
  readFile?: (path: string) => Promise<string>;
}

/** Fails a credentials file: `what` names the field, never its value. */
export type ConfigFailure = (what: string) => CredentialProviderError;

const _UNSUPPORTED_SOURCES: Record<string, string> = {
  environment_id: "an AWS credential_source (environment_id)",
  executable: "an executable credential_source",
  certificate: "a certificate credential_source (X.509)",
};

// The path of generateAccessToken; the email in it names the endpoint.
const _IMPERSONATION_PATH = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/;

/**
 * Reads an `external_account` file's fields.
 *
 * @throws what `fail` makes, for a missing or invalid field or an unsupported source.
 */
export function parseExternalAccount(json: Record<string, unknown>, fail: ConfigFailure): ExternalAccount {
  const universe = json.universe_domain;
  if (universe !== undefined && universe !== "googleapis.com") {
    throw fail("universe_domain other than googleapis.com is not supported");
  }
  const audience = _string(json, "audience", fail);
  const subjectTokenType = _string(json, "subject_token_type", fail);
  const tokenUrl = json.token_url === undefined ? STS_TOKEN_URL : _https(json.token_url, "token_url", fail);
  const source = _source(json.credential_source, fail);
  const impersonation =
    json.service_account_impersonation_url === undefined
      ? undefined
      : parseImpersonationUrl(json.service_account_impersonation_url, fail);
  const lifetime = (json.service_account_impersonation as { token_lifetime_seconds?: unknown } | undefined)
    ?.token_lifetime_seconds;
  if (impersonation && lifetime !== undefined) {
    if (!(Number.isInteger(lifetime) && (lifetime as number) >= 600 && (lifetime as number) <= 43_200)) {
      throw fail(
        "service_account_impersonation.token_lifetime_seconds must be whole seconds from 600 to 43200",
      );
    }
    impersonation.lifetimeSeconds = lifetime as number;
  }
  const clientId = json.client_id;
  const clientSecret = json.client_secret;
  if (clientId !== undefined && typeof clientId !== "string") throw fail("client_id is not a string");
  if (clientSecret !== undefined && typeof clientSecret !== "string")
    throw fail("client_secret is not a string");
  const userProject = json.workforce_pool_user_project;
  if (userProject !== undefined && typeof userProject !== "string") {
    throw fail("workforce_pool_user_project is not a string");
  }
  return {
    audience,
    subjectTokenType,
    tokenUrl,
    source,
    ...(impersonation && { impersonation }),
    ...(clientId && {
      client: { id: clientId, ...(clientSecret !== undefined && { secret: clientSecret }) },
    }),
    ...(userProject && { userProject }),
  };
}

/**
 * A `service_account_impersonation_url`: https, on generateAccessToken's path.
 *
 * @throws what `fail` makes
 */
export function parseImpersonationUrl(value: unknown, fail: ConfigFailure): ImpersonationTarget {
  const url = new URL(_https(value, "service_account_impersonation_url", fail));
  const match = _IMPERSONATION_PATH.exec(url.pathname);
  if (!match || url.search) {
    throw fail(
      "service_account_impersonation_url is not https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<email>:generateAccessToken",
    );
  }
  return { url: url.href, email: decodeURIComponent(match[1] as string) };
}

/**
 * The access token of an external account.
 *
 * @throws CloudCallError from the subject token URL, STS or IAM; CredentialProviderError
 *   `CONFIG_INVALID` for a subject token file that cannot be read or holds no token.
 */
export async function externalAccountToken(
  account: ExternalAccount,
  context: ExternalAccountContext,
): Promise<GoogleAccessToken> {
  const subjectToken = await readSubjectToken(account.source, context);
  const federated = await exchangeAtSts(
    {
      audience: account.audience,
      subjectToken,
      subjectTokenType: account.subjectTokenType,
      encoding: "form",
      tokenUrl: account.tokenUrl,
      ...(account.client && { client: account.client }),
      ...(account.userProject && { options: { userProject: account.userProject } }),
      hint: "the pool provider must trust the subject token's issuer, and the file's audience must be the pool provider",
    },
    context,
  );
  if (!account.impersonation) return federated;
  return generateAccessToken(
    {
      email: account.impersonation.email,
      url: account.impersonation.url,
      sourceToken: federated.token,
      ...(account.impersonation.lifetimeSeconds && {
        lifetimeSeconds: account.impersonation.lifetimeSeconds,
      }),
    },
    context,
  );
}

/**
 * The subject token from a file or a URL, registered as a secret.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` (file), CloudCallError (URL)
 */
export async function readSubjectToken(
  source: SubjectTokenSource,
  context: ExternalAccountContext,
): Promise<string> {
  let token: string;
  if (source.kind === "file") {
    const fail = (what: string) =>
      new CredentialProviderError("CONFIG_INVALID", `the credential_source file ${source.path} ${what}`);
    const readFile =
      context.readFile ??
      ((path: string) => process.getBuiltinModule("node:fs/promises").readFile(path, "utf8"));
    let text: string;
    try {
      text = await readFile(source.path);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw fail(
        code === "ENOENT"
          ? "does not exist"
          : `cannot be read (${typeof code === "string" ? code : "error"})`,
      );
    }
    let json: unknown;
    if (source.format.type === "json") {
      try {
        json = JSON.parse(text);
      } catch {
        throw fail("is not JSON");
      }
    }
    token = _subjectToken(text, json, source.format, fail);
  } else {
    const shown = new URL(source.url);
    const endpoint = `external account subject token (${shown.origin}${shown.pathname})`;
    context.log.v(4, `${endpoint}: GET`);
    const response = await context.http.request(source.url, {
      method: "GET",
      headers: source.headers,
      endpoint,
    });
    if (response.status !== 200) throw refusal(response, endpoint);
    const json = source.format.type === "json" ? jsonObject(response, endpoint) : undefined;
    token = _subjectToken(response.text(), json, source.format, (what) =>
      malformed(endpoint, response.status, `with a body that ${what}`),
    );
  }
  context.secrets.add(token);
  return token;
}

function _subjectToken(
  text: string,
  json: unknown,
  format: SubjectTokenFormat,
  fail: (what: string) => Error,
): string {
  const value =
    format.type === "text"
      ? text
      : typeof json === "object" && json !== null
        ? (json as Record<string, unknown>)[format.field]
        : undefined;
  if (typeof value !== "string" || value.trim() === "") {
    throw fail(format.type === "text" ? "holds no subject token" : `has no subject token in ${format.field}`);
  }
  return value.trim();
}

function _source(value: unknown, fail: ConfigFailure): SubjectTokenSource {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail("has no credential_source object");
  }
  const source = value as Record<string, unknown>;
  for (const [key, what] of Object.entries(_UNSUPPORTED_SOURCES)) {
    if (source[key] !== undefined) {
      throw fail(`has ${what}, which this provider does not support (file and url sources are)`);
    }
  }
  const format = _format(source.format, fail);
  if (typeof source.file === "string" && source.file !== "")
    return { kind: "file", path: source.file, format };
  if (typeof source.url === "string" && source.url !== "") {
    let url: URL;
    try {
      url = new URL(source.url);
    } catch {
      throw fail("credential_source.url is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw fail("credential_source.url is not an http or https URL");
    }
    const headers: Record<string, string> = {};
    if (source.headers !== undefined) {
      if (typeof source.headers !== "object" || source.headers === null || Array.isArray(source.headers)) {
        throw fail("credential_source.headers is not an object");
      }
      for (const [name, header] of Object.entries(source.headers)) {
        if (typeof header !== "string") throw fail(`credential_source.headers.${name} is not a string`);
        headers[name] = header;
      }
    }
    return { kind: "url", url: url.href, headers, format };
  }
  throw fail("credential_source has neither a file nor a url");
}

function _format(value: unknown, fail: ConfigFailure): SubjectTokenFormat {
  if (value === undefined) return { type: "text" };
  const format = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const type = format.type ?? "text";
  if (type === "text") return { type: "text" };
  if (type === "json") {
    const field = format.subject_token_field_name;
    if (typeof field !== "string" || field === "") {
      throw fail("credential_source.format of type json has no subject_token_field_name");
    }
    return { type: "json", field };
  }
  throw fail("credential_source.format.type is neither text nor json");
}

function _string(json: Record<string, unknown>, key: string, fail: ConfigFailure): string {
  const value = json[key];
  if (typeof value !== "string" || value.trim() === "") throw fail(`has no ${key}`);
  return value;
}

function _https(value: unknown, key: string, fail: ConfigFailure): string {
  if (typeof value !== "string") throw fail(`${key} is not a string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`${key} is not a URL`);
  }
  if (url.protocol !== "https:" || url.username || url.password) throw fail(`${key} is not an https URL`);
  return url.href;
}
