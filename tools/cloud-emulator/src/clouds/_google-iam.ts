/**
 * IAM Service Account Credentials (`POST https://iamcredentials.googleapis.com/v1/projects/-/
 * serviceAccounts/<email>:generateAccessToken`): impersonation. The caller presents an access
 * token the emulator issued (metadata, OAuth2, STS or an earlier impersonation), with the
 * cloud-platform or iam scope, for a service account the test registered and lets it impersonate.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import type { GoogleAccounts } from "./_google-accounts.ts";
import type { GoogleTokenSource, GoogleTokens } from "./_google-tokens.ts";
import { cloudPlatformScope, GoogleApiError, scopeList } from "./_google-tokens.ts";

/** One generateAccessToken, and what came of it. */
export interface ImpersonationCall {
  host: string;
  /** The service account in the path (decoded). */
  email: string;
  /** The project in the path (`-` as the library sends it). */
  project: string;
  /** The bearer token presented, and what the emulator knows of it. */
  callerToken?: string;
  callerSource?: GoogleTokenSource;
  caller?: string;
  scopes?: string[];
  /** As sent: `"3600s"`. */
  lifetime?: string;
  delegates?: string[];
  /** `"ok"`, or the API status answered (`UNAUTHENTICATED`, `PERMISSION_DENIED`, …). */
  outcome: string;
  message?: string;
  accessToken?: string;
  expireTime?: Date;
}

interface _Deps {
  emulator: Pick<Emulator, "route">;
  accounts: GoogleAccounts;
  tokens: GoogleTokens;
  calls: ImpersonationCall[];
}

const _iamScope = "https://www.googleapis.com/auth/iam";
const _maxLifetimeSeconds = 3600;

export function installGoogleIam(deps: _Deps): void {
  deps.emulator.route(
    {
      id: "google.iamcredentials",
      host: "iamcredentials.googleapis.com",
      method: "POST",
      path: /^\/v1\/projects\/(?<project>[^/]+)\/serviceAccounts\/(?<email>[^/:]+):generateAccessToken$/,
    },
    (req, ctx) => _generate(deps, req, ctx),
  );
}

function _generate(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const email = decodeURIComponent(ctx.params.email ?? "");
  const call: ImpersonationCall = {
    host: req.host,
    email,
    project: decodeURIComponent(ctx.params.project ?? ""),
    outcome: "pending",
  };
  deps.calls.push(call);
  try {
    call.callerToken = req.bearer();
    if (call.callerToken === undefined) {
      throw new GoogleApiError(
        401,
        "UNAUTHENTICATED",
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      );
    }
    const caller = deps.tokens.find(call.callerToken);
    if (caller) {
      call.callerSource = caller.source;
      call.caller = caller.principal;
    }
    if (!caller || caller.expiresAt.getTime() <= Date.now()) {
      throw new GoogleApiError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      );
    }
    if (!caller.scopes.includes(cloudPlatformScope) && !caller.scopes.includes(_iamScope)) {
      throw new GoogleApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.");
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      body = undefined;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new GoogleApiError(400, "INVALID_ARGUMENT", "The request body is not a JSON object.");
    }
    const { scope, lifetime, delegates } = body as Record<string, unknown>;
    call.scopes = scopeList(scope);
    if (typeof lifetime === "string") call.lifetime = lifetime;
    if (Array.isArray(delegates)) call.delegates = delegates.map(String);
    if (call.scopes.length === 0) throw new GoogleApiError(400, "INVALID_ARGUMENT", "Scope is required.");
    let seconds = _maxLifetimeSeconds;
    if (lifetime !== undefined) {
      const m = typeof lifetime === "string" ? /^(\d+)(?:\.\d+)?s$/.exec(lifetime) : null;
      seconds = m ? Number(m[1]) : Number.NaN;
      if (!(seconds >= 1 && seconds <= _maxLifetimeSeconds)) {
        throw new GoogleApiError(
          400,
          "INVALID_ARGUMENT",
          `Invalid form of lifetime: ${String(lifetime)}; it must be "<seconds>s", at most ${_maxLifetimeSeconds}s.`,
        );
      }
    }
    if (!deps.accounts.has(email) || !deps.accounts.mayImpersonate(email, caller.principal)) {
      throw new GoogleApiError(
        403,
        "PERMISSION_DENIED",
        `Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`,
      );
    }
    const expireTime = new Date(Date.now() + (ctx.expired ? -60_000 : seconds * 1000));
    const issued = deps.tokens.issue(ctx.issueSecret, {
      source: "iamcredentials",
      principal: email.toLowerCase(),
      scopes: call.scopes,
      expiresAt: expireTime,
    });
    Object.assign(call, { outcome: "ok", accessToken: issued.token, expireTime });
    // Google's RFC 3339 timestamps carry no milliseconds.
    return json(200, {
      accessToken: issued.token,
      expireTime: expireTime.toISOString().replace(/\.\d+Z$/, "Z"),
    });
  } catch (error) {
    if (!(error instanceof GoogleApiError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return json(error.status, { error: { code: error.status, message: error.message, status: error.code } });
  }
}
