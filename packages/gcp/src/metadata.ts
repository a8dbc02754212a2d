/**
 * The GCE metadata server, for the `dockercfg` and `dockercfg-url` flows, through core's HTTP
 * client (timeouts, retries, the run's deadline, proxy rules, no redirects): every request sends
 * `Metadata-Flavor: Google` and every answer must carry it back (a captive portal or proxy that
 * answers instead of the metadata server is refused). The base is
 * `http://metadata.google.internal/computeMetadata/v1/`, or the `host[:port]` in
 * `GCE_METADATA_IP` / `GCE_METADATA_HOST` (the same variables, in the same order, as
 * google-auth-library's gcp-metadata reads for the gcr flow).
 */
import type { HttpClient, HttpResponse, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CredentialProviderError } from "@kubelet-credential-provider/core";

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

/**
 * GETs a metadata path (relative to the base, e.g. `instance/attributes/google-dockercfg`).
 *
 * @returns the body, or undefined when the server answers 404 (the key is not set).
 * @throws CredentialProviderError `INVALID_RESPONSE` for an answer without `Metadata-Flavor: Google`
 *   or a status other than 200/404; `CLOUD_UNAVAILABLE`/`CLOUD_THROTTLED` from the HTTP client.
 */
export async function readMetadata(path: string, context: MetadataContext): Promise<string | undefined> {
  const url = new URL(path, metadataBaseUrl(context.env));
  context.log.v(4, `GET ${url.href} (metadata server)`);
  const response = await context.http.request(url, {
    method: "GET",
    headers: { [METADATA_FLAVOR_HEADER]: METADATA_FLAVOR },
  });
  const flavor = _header(response, METADATA_FLAVOR_HEADER);
  if (flavor !== METADATA_FLAVOR) {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `GET ${url.href} answered ${response.status} without the header ${METADATA_FLAVOR_HEADER}: ${METADATA_FLAVOR}${flavor === undefined ? "" : ` (got ${JSON.stringify(flavor.slice(0, 50))})`}: not the metadata server`,
    );
  }
  if (response.status === 404) return undefined;
  if (response.status !== 200) {
    throw new CredentialProviderError("INVALID_RESPONSE", `GET ${url.href} answered ${response.status}`);
  }
  return response.text();
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
 *   URL, or the URL answers 404; `CLOUD_AUTH_FAILED` for 401/403; `INVALID_RESPONSE` otherwise.
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
  context.log.v(4, `GET ${where} (from the ${attribute})`);
  const response = await context.http.request(url, { method: "GET" });
  const source = `${where} (from the ${attribute})`;
  if (response.status === 200) return { text: response.text(), source };
  const what = `GET ${where} (from the ${attribute}) answered ${response.status}`;
  if (response.status === 401 || response.status === 403)
    throw new CredentialProviderError("CLOUD_AUTH_FAILED", what);
  if (response.status === 404)
    throw new CredentialProviderError("CONFIG_INVALID", `${what}: no dockercfg there`);
  if (response.status >= 300 && response.status < 400) {
    throw new CredentialProviderError("INVALID_RESPONSE", `${what} (redirects are not followed)`);
  }
  throw new CredentialProviderError("INVALID_RESPONSE", what);
}

function _header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
