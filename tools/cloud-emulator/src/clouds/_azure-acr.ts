/**
 * Azure Container Registry's login servers: the registry (challenge `/v2/`, token endpoint
 * `/oauth2/token`) from the emulator's registry module, and `POST /oauth2/exchange`, which trades
 * an Entra access token the emulator issued, for an ACR audience of the registry's own cloud, for
 * a refresh token that the registry then takes as the password of the null-GUID user.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { AzureCloudInfo, AzureCloudName } from "./_azure-clouds.ts";
import { acrLoginServerPatterns, cloudOfLoginServer, normalizeAudience } from "./_azure-clouds.ts";
import { epochSeconds, issueJwt, tokenId } from "./_azure-jwt.ts";
import type { AccessTokens, AzurePrincipal } from "./_azure-tokens.ts";
import { emulatorKid } from "./_azure-tokens.ts";

/** The user name that goes with an ACR refresh token, as `az acr login` and the plugin use it. */
export const acrRefreshTokenUsername = "00000000-0000-0000-0000-000000000000";

/** One `POST /oauth2/exchange`, and what came of it. */
export interface ExchangeCall {
  /** The login server called. */
  host: string;
  cloud: AzureCloudName;
  grantType?: string;
  service?: string;
  /** The `tenant` form field, as sent. */
  tenant?: string;
  /** The access token presented, and what the emulator knows of it if it issued it. */
  accessToken?: string;
  audience?: string;
  tokenCloud?: AzureCloudName;
  tokenTenant?: string;
  principal?: AzurePrincipal;
  /** `"ok"`, or the registry error code answered (`UNAUTHORIZED`, `UNSUPPORTED`, …). */
  outcome: string;
  message?: string;
  refreshToken?: string;
  expiresAt?: Date;
}

interface _Deps {
  emulator: Pick<Emulator, "route" | "registry">;
  tokens: AccessTokens;
  calls: ExchangeCall[];
  validitySeconds: () => number;
}

class _AcrError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function installAcr(deps: _Deps): void {
  // Under ids of their own too, so a test can fault ACR's challenge and not every registry's.
  for (const pattern of acrLoginServerPatterns) {
    deps.emulator.registry.serve(pattern, {
      scheme: "bearer",
      aliases: { v2: "acr.challenge", token: "acr.token" },
    });
  }
  deps.emulator.route(
    { id: "acr.exchange", host: acrLoginServerPatterns, method: "POST", path: "/oauth2/exchange" },
    (req, ctx) => _exchange(deps, req, ctx),
  );
}

function _exchange(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const cloud = cloudOfLoginServer(req.host) as AzureCloudInfo;
  const form = req.form();
  const call: ExchangeCall = { host: req.host, cloud: cloud.name, outcome: "pending" };
  for (const [field, name] of [
    ["grantType", "grant_type"],
    ["service", "service"],
    ["tenant", "tenant"],
    ["accessToken", "access_token"],
  ] as const) {
    const value = form.get(name);
    if (value !== null) call[field] = value;
  }
  deps.calls.push(call);
  try {
    // The Go plugin sends its Entra token as both access_token and refresh_token, as ACR allows.
    if (call.grantType !== "access_token" && call.grantType !== "access_token_refresh_token") {
      throw new _AcrError(400, "UNSUPPORTED", `grant_type '${call.grantType ?? ""}' is not supported`);
    }
    if (call.service !== req.host) {
      throw new _AcrError(
        400,
        "UNSUPPORTED",
        `service '${call.service ?? ""}' is not this registry (${req.host})`,
      );
    }
    if (!call.accessToken) throw new _AcrError(400, "UNSUPPORTED", "access_token is required");
    const issued = deps.tokens.find(call.accessToken);
    if (!issued) {
      throw new _AcrError(
        401,
        "UNAUTHORIZED",
        "the access token is not one Entra ID issued (cloud emulator)",
      );
    }
    call.audience = issued.audience;
    call.tokenCloud = issued.cloud;
    call.tokenTenant = issued.tenantId;
    call.principal = { ...issued.principal };
    if (issued.expiresAt.getTime() <= Date.now()) {
      throw new _AcrError(401, "UNAUTHORIZED", "the access token has expired");
    }
    if (issued.cloud !== cloud.name) {
      throw new _AcrError(
        401,
        "UNAUTHORIZED",
        `the access token was issued by ${issued.cloud}'s Entra ID, this registry is in ${cloud.name}`,
      );
    }
    if (!cloud.acrAudiences.includes(normalizeAudience(issued.audience))) {
      throw new _AcrError(
        401,
        "UNAUTHORIZED",
        `the access token's audience '${issued.audience}' is not a container registry audience of ${cloud.name}`,
      );
    }
    if (call.tenant !== undefined && call.tenant.toLowerCase() !== issued.tenantId) {
      throw new _AcrError(401, "UNAUTHORIZED", `tenant '${call.tenant}' is not the access token's tenant`);
    }

    const expiresAt = ctx.expired
      ? new Date(Date.now() - 60_000)
      : new Date(Date.now() + deps.validitySeconds() * 1000);
    const now = epochSeconds();
    const refreshToken = issueJwt(
      ctx.issueSecret,
      {
        jti: tokenId(),
        sub: issued.principal.objectId,
        nbf: now,
        exp: epochSeconds(expiresAt),
        iat: now,
        iss: "Azure Container Registry",
        aud: req.host,
        version: "1.0",
        grant_type: "refresh_token",
        tenant: issued.tenantId,
        permissions: { actions: ["read"], notActions: [] },
        roles: [],
      },
      emulatorKid,
    );
    deps.emulator.registry.accept(req.host, acrRefreshTokenUsername, refreshToken, { expiresAt });
    call.refreshToken = refreshToken;
    call.expiresAt = expiresAt;
    call.outcome = "ok";
    return json(200, { refresh_token: refreshToken });
  } catch (error) {
    if (!(error instanceof _AcrError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return json(error.status, { errors: [{ code: error.code, message: error.message, detail: null }] });
  }
}
