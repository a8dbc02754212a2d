/**
 * Entra ID as MSAL (under @azure/identity) meets it: instance discovery and OpenID metadata for
 * authorities it has no built-in metadata for, and the v2.0 token endpoint's client credentials
 * grant with a client secret, a certificate-signed client assertion, or a federated token. Every
 * check a real tenant makes on these is made here, with Entra's error shape and AADSTS numbers.
 */
import { randomUUID } from "node:crypto";
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { AzureCloudInfo } from "./_azure-clouds.ts";
import { azureClouds, cloudOfEntraHost } from "./_azure-clouds.ts";
import type { Application, Directory } from "./_azure-directory.ts";
import type { DecodedJwt } from "./_azure-jwt.ts";
import { decodeJwt, epochSeconds, verifyJwtSignature } from "./_azure-jwt.ts";
import type { AccessTokens, AzureTokenCall } from "./_azure-tokens.ts";
import { recordTokenForm } from "./_azure-tokens.ts";

interface _Deps {
  emulator: Pick<Emulator, "route">;
  directory: Directory;
  tokens: AccessTokens;
  calls: AzureTokenCall[];
  validitySeconds: () => number;
}

export const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const _entraHosts = Object.values(azureClouds).flatMap((cloud) => [...cloud.entraHosts]);
// Tenant-independent names Entra serves metadata for, but never a client credentials token.
const _meta = new Set(["common", "organizations", "consumers"]);
// Entra tolerates this much clock difference in an assertion's time claims.
const _skewSeconds = 300;
// Scopes MSAL may add to any request; they do not name a resource.
const _oidcScopes = new Set(["openid", "profile", "offline_access"]);

/** An answer in Entra's error shape: `{error, error_description: "AADSTS…: …", error_codes}`. */
export class EntraError extends Error {
  readonly status: number;
  readonly error: string;
  readonly code: number;

  constructor(status: number, error: string, code: number, message: string) {
    super(message);
    this.status = status;
    this.error = error;
    this.code = code;
  }
}

export function installEntra(deps: _Deps): void {
  const { emulator } = deps;
  emulator.route(
    {
      id: "entra.discovery",
      host: _entraHosts,
      method: "GET",
      path: /^\/(?<tenant>[^/]+)\/discovery\/instance$/,
    },
    (req) => _instanceDiscovery(req),
  );
  emulator.route(
    {
      id: "entra.openid",
      host: _entraHosts,
      method: "GET",
      path: /^\/(?<tenant>[^/]+)(?:\/v2\.0)?\/\.well-known\/openid-configuration$/,
    },
    (req, ctx) => _openidConfiguration(deps, req, ctx.params.tenant as string),
  );
  emulator.route(
    {
      id: "entra.token",
      host: _entraHosts,
      method: "POST",
      path: /^\/(?<tenant>[^/]+)\/oauth2\/v2\.0\/token$/,
    },
    (req, ctx) => _token(deps, req, ctx),
  );
}

function _instanceDiscovery(req: EmulatorRequest): Reply {
  const cloud = cloudOfEntraHost(req.host) as AzureCloudInfo;
  const authorize = req.query.get("authorization_endpoint");
  const tenant = authorize ? /^https:\/\/[^/]+\/([^/]+)\//.exec(authorize)?.[1] : undefined;
  return json(200, {
    tenant_discovery_endpoint: `https://${req.host}/${tenant ?? "common"}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [
      {
        // The name asked for: the emulator serves them all, so no alias is better than another.
        preferred_network: req.host,
        preferred_cache: req.host,
        aliases: [...cloud.entraHosts],
      },
    ],
  });
}

function _openidConfiguration(deps: _Deps, req: EmulatorRequest, tenant: string): Reply {
  if (!_meta.has(tenant) && !deps.directory.hasTenant(tenant)) {
    return _errorReply(_unknownTenant(tenant));
  }
  const base = `https://${req.host}/${tenant}`;
  const issuerTenant = _meta.has(tenant) ? "{tenantid}" : tenant;
  return json(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `https://${req.host}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    tenant_region_scope: null,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    cloud_instance_name: req.host.split(".").slice(-2).join("."),
  });
}

function _token(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const cloud = cloudOfEntraHost(req.host) as AzureCloudInfo;
  const tenant = (ctx.params.tenant as string).toLowerCase();
  const form = req.form();
  const call: AzureTokenCall = {
    source: "entra",
    host: req.host,
    cloud: cloud.name,
    tenantId: tenant,
    outcome: "pending",
  };
  recordTokenForm(call, form);
  deps.calls.push(call);
  try {
    if (_meta.has(tenant)) {
      throw new EntraError(
        400,
        "invalid_request",
        50059,
        "No tenant-identifying information found in either the request or implied by any provided credentials.",
      );
    }
    if (!deps.directory.hasTenant(tenant)) throw _unknownTenant(tenant);
    if (call.grantType !== "client_credentials") {
      throw new EntraError(
        400,
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${call.grantType ?? ""}'.`,
      );
    }
    const clientId = _required(call.clientId, "client_id").toLowerCase();
    const resource = _resource(_required(call.scope, "scope"));
    call.resource = resource;
    const app = deps.directory.app(clientId, tenant);
    if (!app) {
      throw new EntraError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    _authenticate(app, cloud, tenant, form, call);

    const seconds = deps.validitySeconds();
    const expiresAt = ctx.expired ? new Date(Date.now() - 60_000) : new Date(Date.now() + seconds * 1000);
    const issued = deps.tokens.issue(ctx.issueSecret, {
      cloud: cloud.name,
      tenantId: tenant,
      audience: resource,
      principal: app.principal,
      expiresAt,
    });
    call.principal = { ...app.principal };
    call.accessToken = issued.token;
    call.expiresAt = expiresAt;
    call.outcome = "ok";
    const expiresIn = ctx.expired ? 0 : seconds;
    return json(
      200,
      { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: issued.token },
      _headers(),
    );
  } catch (error) {
    if (!(error instanceof EntraError)) throw error;
    call.outcome = error.error;
    call.errorCode = error.code;
    call.message = error.message;
    return _errorReply(error);
  }
}

/** Checks the client's credential against the registration; records which one it used. */
function _authenticate(
  app: Application,
  cloud: AzureCloudInfo,
  tenant: string,
  form: URLSearchParams,
  call: AzureTokenCall,
): void {
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null && assertion !== null) {
    throw new EntraError(
      401,
      "invalid_request",
      90024,
      "Only one of 'client_secret' and 'client_assertion' may be sent.",
    );
  }
  if (secret !== null) {
    call.credential = "client_secret";
    if (!app.secrets.has(secret)) {
      throw new EntraError(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.principal.clientId}'.`,
      );
    }
    return;
  }
  if (assertion === null || assertion === "") {
    throw new EntraError(
      401,
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  if (call.assertionType !== jwtBearer) {
    throw new EntraError(
      400,
      "invalid_request",
      7000217,
      `'client_assertion_type' must be '${jwtBearer}', got '${call.assertionType ?? ""}'.`,
    );
  }
  const jwt = decodeJwt(assertion);
  if (app.federatedTokens.has(assertion)) {
    call.credential = "federated";
    call.federatedToken = assertion;
    const exp = jwt?.claims.exp;
    if (typeof exp === "number" && exp <= epochSeconds()) {
      throw new EntraError(
        400,
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range.",
      );
    }
    return;
  }
  const header = jwt?.header;
  if (
    jwt &&
    (header?.x5t !== undefined ||
      header?.["x5t#S256"] !== undefined ||
      jwt.claims.iss === app.principal.clientId)
  ) {
    call.credential = "certificate";
    _checkCertificateAssertion(app, cloud, tenant, jwt, call);
    return;
  }
  call.credential = "federated";
  call.federatedToken = assertion;
  throw new EntraError(
    400,
    "invalid_client",
    70021,
    `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(jwt?.claims.iss ?? "")}'. Assertion Subject: '${String(jwt?.claims.sub ?? "")}'. Assertion Audience: '${String(jwt?.claims.aud ?? "")}'.`,
  );
}

function _checkCertificateAssertion(
  app: Application,
  cloud: AzureCloudInfo,
  tenant: string,
  jwt: DecodedJwt,
  call: AzureTokenCall,
): void {
  const s256 = jwt.header["x5t#S256"];
  const sha1 = jwt.header.x5t;
  const candidates = app.certificates.filter((cert) =>
    s256 !== undefined ? cert.x5tS256 === s256 : sha1 !== undefined ? cert.x5t === sha1 : true,
  );
  if (candidates.length === 0) {
    const named = typeof s256 === "string" ? s256 : typeof sha1 === "string" ? sha1 : "(none)";
    throw new EntraError(
      401,
      "invalid_client",
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${named}']`,
    );
  }
  const cert = candidates.find((c) => verifyJwtSignature(jwt, c.publicKey));
  if (!cert) {
    throw new EntraError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
  }
  call.thumbprint = cert.thumbprint;
  const { iss, sub, aud, exp, nbf } = jwt.claims;
  if (iss !== app.principal.clientId || sub !== app.principal.clientId) {
    throw new EntraError(
      401,
      "invalid_client",
      700021,
      "Client assertion application identifier doesn't match 'client_id' parameter.",
    );
  }
  // Entra takes the token endpoint of the tenant under any of the cloud's names, v1 or v2.0.
  const endpoints = cloud.entraHosts.flatMap((host) =>
    ["oauth2/v2.0/token", "oauth2/token"].map((path) => `https://${host}/${tenant}/${path}`),
  );
  if (typeof aud !== "string" || !endpoints.includes(aud.toLowerCase())) {
    throw new EntraError(
      401,
      "invalid_client",
      50027,
      `Invalid JWT token. The client assertion's audience '${String(aud)}' is not a token endpoint of tenant '${tenant}'.`,
    );
  }
  const now = epochSeconds();
  if (
    typeof exp !== "number" ||
    exp <= now - _skewSeconds ||
    (typeof nbf === "number" && nbf > now + _skewSeconds)
  ) {
    throw new EntraError(
      401,
      "invalid_client",
      700024,
      "Client assertion is not within its valid time range.",
    );
  }
}

/** The one resource a client credentials request names: `<resource>/.default`. */
function _resource(scope: string): string {
  const scopes = scope.split(/\s+/).filter((s) => s !== "" && !_oidcScopes.has(s));
  const only = scopes.length === 1 ? scopes[0] : undefined;
  if (only === undefined || !only.endsWith("/.default") || only === "/.default") {
    throw new EntraError(
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  return only.slice(0, -"/.default".length);
}

function _required(value: string | undefined, name: string): string {
  if (value === undefined || value === "") {
    throw new EntraError(
      400,
      "invalid_request",
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    );
  }
  return value;
}

const _unknownTenant = (tenant: string) =>
  new EntraError(
    400,
    "invalid_tenant",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );

const _headers = () => ({ "x-ms-request-id": randomUUID(), "cache-control": "no-store, no-cache" });

function _errorReply(error: EntraError): Reply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return json(
    error.status,
    {
      error: error.error,
      error_description: `AADSTS${error.code}: ${error.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [error.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
    },
    _headers(),
  );
}
