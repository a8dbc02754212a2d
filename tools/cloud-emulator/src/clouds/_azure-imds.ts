/**
 * The Azure instance metadata service's managed identity endpoint, on the plain listener: the
 * SDK reaches it through AZURE_POD_IDENTITY_AUTHORITY_HOST (the emulator's http URL, which MSAL
 * turns into `…/metadata/identity/oauth2/token/`, trailing slash included) or, with HTTP_PROXY and
 * no override, at 169.254.169.254 through the proxy.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { AzureCloudName } from "./_azure-clouds.ts";
import type { Directory } from "./_azure-directory.ts";
import { epochSeconds } from "./_azure-jwt.ts";
import type { AccessTokens, AzurePrincipal, AzureTokenCall } from "./_azure-tokens.ts";

/** IMDS's link-local name and the emulator's own address the SDK is pointed at. */
export const azureImdsHosts = ["127.0.0.1", "169.254.169.254"] as const;

/** What issues the node's tokens: IMDS's managed identities, and AKS identity bindings. */
export interface NodeTokenDeps {
  emulator: Pick<Emulator, "route">;
  directory: Directory;
  tokens: AccessTokens;
  calls: AzureTokenCall[];
  /** The cloud the node's tokens belong to. */
  cloud: () => AzureCloudName;
  validitySeconds: () => number;
}

export function installAzureImds(deps: NodeTokenDeps): void {
  deps.emulator.route(
    {
      id: "imds.identity",
      host: azureImdsHosts,
      method: "GET",
      path: /^\/metadata\/identity\/oauth2\/token\/?$/,
      scheme: "http",
    },
    (req, ctx) => _token(deps, req, ctx),
  );
}

function _token(deps: NodeTokenDeps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const call: AzureTokenCall = {
    source: "imds",
    host: req.host,
    cloud: deps.cloud(),
    tenantId: deps.directory.defaultTenant,
    grantType: "managed_identity",
    credential: "managed_identity",
    outcome: "pending",
  };
  deps.calls.push(call);
  const fail = (message: string) => {
    call.outcome = "invalid_request";
    call.message = message;
    return json(400, { error: "invalid_request", error_description: message });
  };
  // Checked first, as IMDS does: @azure/identity's availability probe sends neither the header
  // nor a query and takes this 400 to mean "IMDS is here".
  if (req.headers.metadata !== "true") return fail("Required metadata header not specified");
  // IMDS refuses anything forwarded, so a token never leaves the node through a proxy.
  if (req.headers["x-forwarded-for"] !== undefined) return fail("Request forwarded");
  const apiVersion = req.query.get("api-version");
  if (apiVersion === null || !/^\d{4}-\d{2}-\d{2}$/.test(apiVersion)) {
    return fail("Required query variable 'api-version' is missing or invalid");
  }
  const resource = req.query.get("resource");
  if (resource === null || resource === "") return fail("Required audience parameter not specified");
  call.resource = resource;

  const selector: NonNullable<AzureTokenCall["selector"]> = {};
  for (const name of ["client_id", "object_id", "msi_res_id"] as const) {
    const value = req.query.get(name);
    if (value !== null) selector[name] = value;
  }
  if (Object.keys(selector).length > 1)
    return fail("Only one of client_id, object_id, msi_res_id may be given");
  if (Object.keys(selector).length > 0) call.selector = selector;
  const identity = deps.directory.managedIdentity({
    ...(selector.client_id !== undefined ? { clientId: selector.client_id } : {}),
    ...(selector.object_id !== undefined ? { objectId: selector.object_id } : {}),
    ...(selector.msi_res_id !== undefined ? { resourceId: selector.msi_res_id } : {}),
  });
  if (typeof identity === "string") return fail(identity);

  const principal: AzurePrincipal = { ...identity };
  call.clientId = identity.clientId;
  call.principal = principal;
  const seconds = deps.validitySeconds();
  const expiresAt = ctx.expired ? new Date(Date.now() - 60_000) : new Date(Date.now() + seconds * 1000);
  const issued = deps.tokens.issue(ctx.issueSecret, {
    cloud: call.cloud,
    tenantId: deps.directory.defaultTenant,
    audience: resource,
    principal,
    expiresAt,
  });
  call.accessToken = issued.token;
  call.expiresAt = expiresAt;
  call.outcome = "ok";
  const now = epochSeconds();
  const expiresIn = String(Math.max(0, epochSeconds(expiresAt) - now));
  // IMDS answers every number as a string.
  return json(200, {
    access_token: issued.token,
    client_id: identity.clientId,
    expires_in: expiresIn,
    expires_on: String(epochSeconds(expiresAt)),
    ext_expires_in: expiresIn,
    not_before: String(now),
    resource,
    token_type: "Bearer",
  });
}
