/**
 * AKS identity bindings as the ACR plugins meet them with `--ib-sni-name` and `--ib-apiserver-ip`:
 * `POST https://<SNI name>/`, dialled at the API server's address, with the pod's service account
 * token as a client assertion for an Entra application, answered with an Entra access token for
 * the scope asked. The name is any under `azmk8s.io` (AKS API servers' domain); only a token a test
 * trusted for the application (`trustFederatedToken`) gets an answer.
 */
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import { jwtBearer } from "./_azure-entra.ts";
import type { NodeTokenDeps } from "./_azure-imds.ts";
import { decodeJwt, epochSeconds } from "./_azure-jwt.ts";
import type { AzureTokenCall } from "./_azure-tokens.ts";
import { recordTokenForm } from "./_azure-tokens.ts";

/** The names identity bindings answer on: an AKS API server's FQDN. */
export const identityBindingHosts = /^(?:[a-z0-9-]+\.)+azmk8s\.io$/;

class _Refusal extends Error {
  readonly status: number;
  readonly error: string;

  constructor(status: number, error: string, message: string) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

export function installIdentityBindings(deps: NodeTokenDeps): void {
  deps.emulator.route(
    { id: "aks.identityBindings", host: identityBindingHosts, method: "POST", path: "/" },
    (req, ctx) => _token(deps, req, ctx),
  );
}

function _token(deps: NodeTokenDeps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const form = req.form();
  const tenantId = deps.directory.defaultTenant;
  const call: AzureTokenCall = {
    source: "identity-bindings",
    host: req.host,
    cloud: deps.cloud(),
    tenantId,
    outcome: "pending",
  };
  recordTokenForm(call, form);
  deps.calls.push(call);
  try {
    if (call.grantType !== "client_credentials") {
      throw new _Refusal(
        400,
        "unsupported_grant_type",
        `unsupported grant_type ${call.grantType ?? "(none)"}`,
      );
    }
    if (call.assertionType !== jwtBearer) {
      throw new _Refusal(400, "invalid_request", `client_assertion_type must be ${jwtBearer}`);
    }
    const scope = call.scope ?? "";
    if (!/^\S+\/\.default$/.test(scope)) {
      throw new _Refusal(400, "invalid_scope", "scope must be one <resource>/.default");
    }
    call.resource = scope.slice(0, -"/.default".length);
    const assertion = form.get("client_assertion") ?? "";
    call.credential = "federated";
    call.federatedToken = assertion;
    const app = call.clientId ? deps.directory.app(call.clientId.toLowerCase(), tenantId) : undefined;
    if (!app?.federatedTokens.has(assertion)) {
      throw new _Refusal(401, "invalid_client", "the assertion is not bound to this client id");
    }
    const exp = decodeJwt(assertion)?.claims.exp;
    if (typeof exp === "number" && exp <= epochSeconds()) {
      throw new _Refusal(401, "invalid_client", "the assertion has expired");
    }
    const seconds = deps.validitySeconds();
    const expiresAt = ctx.expired ? new Date(Date.now() - 60_000) : new Date(Date.now() + seconds * 1000);
    const issued = deps.tokens.issue(ctx.issueSecret, {
      cloud: call.cloud,
      tenantId,
      audience: call.resource,
      principal: app.principal,
      expiresAt,
    });
    call.principal = { ...app.principal };
    call.accessToken = issued.token;
    call.expiresAt = expiresAt;
    call.outcome = "ok";
    return json(200, {
      token_type: "Bearer",
      expires_in: ctx.expired ? 0 : seconds,
      access_token: issued.token,
    });
  } catch (error) {
    if (!(error instanceof _Refusal)) throw error;
    call.outcome = error.error;
    call.message = error.message;
    return json(error.status, { error: error.error, error_description: error.message });
  }
}
