/**
 * The GCE metadata server: the default service account's token (the gcr flow's node identity) and
 * the instance attributes of the `dockercfg` and `dockercfg-url` flows, through core's HTTP client
 * (timeouts, retries of 429/5xx/resets/truncations within the run's deadline, no proxy for
 * loopback and link-local, no redirects). Every request sends `Metadata-Flavor: Google` and every
 * answer must carry it back (a captive portal or proxy that answers instead of the metadata server
 * is refused before its body is read). The base is
 * `http://metadata.google.internal/computeMetadata/v1/`, or the `host[:port]` in
 * `GCE_METADATA_IP` / `GCE_METADATA_HOST` (the variables, in the order, that Google's client
 * libraries read).
 */
import type { HttpClient, HttpResponse, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import type { CallContext } from "./answers.ts";
import { readTokenAnswer, refusal } from "./answers.ts";
import type { GoogleAccessToken } from "./identity.ts";

export const METADATA_HOST = "metadata.google.internal";
export const METADATA_FLAVOR_HEADER = "Metadata-Flavor";
export const METADATA_FLAVOR = "Google";
export const DOCKERCFG_ATTRIBUTE = "google-dockercfg";
export const DOCKERCFG_URL_ATTRIBUTE = "google-dockercfg-url";

export interface MetadataContext {
  http: HttpClient;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  secrets: SecretRegistry;
}

/**
 * The metadata server's base URL, ending in `/computeMetadata/v1/`.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` for a GCE_METADATA_HOST that is not host[:port].
 */
export function metadataBaseUrl(env: Readonly<Record<string, string | undefined>>): URL {
  const name = env.GCE_METADATA_IP
    ? "GCE_METADATA_IP"
    : env.GCE_METADATA_HOST
      ? "GCE_METADATA_HOST"
      : undefined;
  if (name === undefined) return new URL(`http://${METADATA_HOST}/computeMetadata/v1/`);
  const value = (env[name] as string).trim();
  // gcp-metadata also accepts a URL with the scheme; the path is always /computeMetadata/v1.
  const withScheme = /^https?:\/\//i.test(value) ? value : `http://${value}`;
  const fail = () =>
    new CredentialProviderError(
      "CONFIG_INVALID",
      `${name} ${JSON.stringify(value.slice(0, 100))} must be the metadata server's host[:port], e.g. 169.254.169.254 or 127.0.0.1:8080`,
    );
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw fail();
  }
  if (!url.hostname || url.username || url.password || url.pathname !== "/" || url.search || url.hash) {
    throw fail();
  }
  return new URL("/computeMetadata/v1/", url.origin);
}

/** The endpoint in words of the default service account's token. */
export const METADATA_TOKEN_ENDPOINT = "GCE metadata token";
export const METADATA_TOKEN_PATH = "instance/service-accounts/default/token";

/**
 * GETs a metadata path (relative to the base, e.g. `instance/attributes/google-dockercfg`) and
 * checks that the metadata server answered.
 *
 * @throws CloudCallError `malformed` for an answer without `Metadata-Flavor: Google`; what core's
 *   client throws (throttled, unreachable, ...) after its retries.
 */
export async function getMetadata(
  path: string,
  endpoint: string,
  context: Pick<MetadataContext, "http" | "env" | "log">,
): Promise<HttpResponse> {
  const url = new URL(path, metadataBaseUrl(context.env));
  context.log.v(4, `${endpoint}: GET ${url.href}`);
  const response = await context.http.request(url, {
    method: "GET",
    headers: { [METADATA_FLAVOR_HEADER]: METADATA_FLAVOR },
    endpoint,
  });
  const flavor = _header(response, METADATA_FLAVOR_HEADER);
  if (flavor !== METADATA_FLAVOR) {
    // The header's value is not quoted: whatever answered is not Google's, and neither is its text.
    throw new CloudCallError({
      endpoint,
      fault: "malformed",
      status: response.status,
      detail: `answered HTTP ${response.status} ${flavor === undefined ? "without the header" : "with another value of"} ${METADATA_FLAVOR_HEADER}: ${METADATA_FLAVOR}: not the metadata server (a proxy or captive portal answered ${url.host})`,
    });
  }
  return response;
}

/**
 * A metadata value (an instance attribute).
 *
 * @returns the body, or undefined when the server answers 404 (the key is not set).
 * @throws CloudCallError as {@link getMetadata}; `rejected`/`malformed` for a status other than
 *   200/404.
 */
export async function readMetadata(path: string, context: MetadataContext): Promise<string | undefined> {
  const endpoint = `GCE metadata ${path}`;
  const response = await getMetadata(path, endpoint, context);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw refusal(response, endpoint);
  return response.text();
}

/**
 * The access token of the instance's default service account, with the instance's scopes.
 *
 * @throws CloudCallError `rejected` naming the cause for 404 (no service account on the instance);
 *   `malformed` for an answer that is not a token with a lifetime; `expired`; what core throws.
 */
export async function fetchMetadataToken(context: MetadataContext & CallContext): Promise<GoogleAccessToken> {
  const endpoint = METADATA_TOKEN_ENDPOINT;
  const response = await getMetadata(METADATA_TOKEN_PATH, endpoint, context);
  const hint =
    response.status === 404
      ? "this instance has no service account (or GCE_METADATA_HOST is not a metadata server)"
      : undefined;
  return readTokenAnswer(response, endpoint, context, hint);
}

/**
 * The dockercfg of the `dockercfg` flow: the instance attribute google-dockercfg.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the attribute is not set.
 */
export async function readDockerConfigAttribute(
  context: MetadataContext,
): Promise<{ text: string; source: string }> {
  const source = `instance attribute ${DOCKERCFG_ATTRIBUTE}`;
  const text = await readMetadata(`instance/attributes/${DOCKERCFG_ATTRIBUTE}`, context);
  if (text === undefined) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `the ${source} is not set on this instance (--authFlow dockercfg reads it)`,
    );
  }
  return { text, source };
}

/**
 * The dockercfg of the `dockercfg-url` flow: the URL in the instance attribute
 * google-dockercfg-url, fetched without the metadata header.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the attribute is not set or not an http(s)
 *   URL; CloudCallError naming the URL without its query (a signed URL's query is a credential):
 *   `CONFIG_INVALID` for 404, `rejected` for another 4xx, `malformed` for a redirect (not followed).
 */
export async function readDockerConfigUrl(
  context: MetadataContext,
): Promise<{ text: string; source: string }> {
  const attribute = `instance attribute ${DOCKERCFG_URL_ATTRIBUTE}`;
  const value = await readMetadata(`instance/attributes/${DOCKERCFG_URL_ATTRIBUTE}`, context);
  if (value === undefined) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `the ${attribute} is not set on this instance (--authFlow dockercfg-url reads it)`,
    );
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new CredentialProviderError("CONFIG_INVALID", `the ${attribute} is not a URL`);
  }
  // A signed URL's query or user information is a credential.
  context.secrets.add(url.password);
  context.secrets.add(url.search.slice(1));
  for (const param of url.searchParams.values()) if (param.length >= 8) context.secrets.add(param);
  const where = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `the ${attribute} names ${url.protocol.slice(0, -1)} URL ${JSON.stringify(where.slice(0, 200))}: only http and https URLs are supported`,
    );
  }
  const endpoint = `dockercfg URL ${where} (from the ${attribute})`;
  context.log.v(4, `${endpoint}: GET`);
  const response = await context.http.request(url, { method: "GET", endpoint });
  if (response.status === 200) return { text: response.text(), source: `${where} (from the ${attribute})` };
  if (response.status === 404) {
    throw new CloudCallError({
      endpoint,
      fault: "rejected",
      status: 404,
      code: "CONFIG_INVALID",
      detail: "answered HTTP 404: no dockercfg there",
    });
  }
  throw refusal(response, endpoint);
}

function _header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
