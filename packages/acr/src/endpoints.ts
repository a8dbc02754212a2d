/**
 * The names of the endpoints this provider calls, in words, as core's HTTP client puts them in
 * logs and errors: an operator reads which call failed, against which host and tenant, without a
 * URL's query (where an SDK may put an identity) or any part of an answer.
 */

/** The path of the instance metadata service's managed identity token endpoint. */
export const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";

export const IMDS_TOKEN_ENDPOINT = "Azure IMDS token";

/** `Entra token (login.microsoftonline.com, tenant T)`: the token endpoint of a tenant. */
export function entraTokenEndpoint(authorityHost: string, tenant: string): string {
  return `Entra token (${_host(authorityHost)}, tenant ${tenant})`;
}

export function acrChallengeEndpoint(loginServer: string): string {
  return `ACR challenge (${loginServer})`;
}

export function acrExchangeEndpoint(loginServer: string): string {
  return `ACR exchange (${loginServer})`;
}

/**
 * The name of a call @azure/identity (or MSAL under it) makes: Entra's token endpoint and OpenID
 * configuration by host and tenant, the managed identity endpoint, else the host and path.
 */
export function azureEndpointOf(url: URL): string {
  // MSAL joins AZURE_POD_IDENTITY_AUTHORITY_HOST and the path with a trailing slash.
  const pathname = url.pathname.replace(/\/+$/, "");
  if (pathname === IMDS_TOKEN_PATH) return IMDS_TOKEN_ENDPOINT;
  const [tenant, ...rest] = pathname.split("/").filter(Boolean);
  const path = rest.join("/");
  if (tenant && /^(oauth2\/v2\.0\/token|oauth2\/token)$/.test(path)) {
    return entraTokenEndpoint(url.host, _short(tenant));
  }
  if (tenant && /^(v2\.0\/)?\.well-known\/openid-configuration$/.test(path)) {
    return `Entra OpenID configuration (${url.host}, tenant ${_short(tenant)})`;
  }
  if (path === "discovery/instance") return `Entra instance discovery (${url.host})`;
  // Other managed identity sources (App Service, Arc, Cloud Shell): their own endpoints.
  return `Azure identity ${url.host}${pathname.slice(0, 100)}`;
}

function _host(authorityHost: string): string {
  try {
    return new URL(authorityHost).host;
  } catch {
    return authorityHost;
  }
}

// A tenant is a GUID or a domain name; anything longer is not worth a log line.
function _short(tenant: string): string {
  const decoded = (() => {
    try {
      return decodeURIComponent(tenant);
    } catch {
      return tenant;
    }
  })();
  return decoded.length > 80 ? `${decoded.slice(0, 80)}…` : decoded;
}
