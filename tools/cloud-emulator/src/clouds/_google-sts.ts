/**
 * Google's Security Token Service (`POST https://sts.googleapis.com/v1/token`): the OAuth 2.0
 * token exchange of a Kubernetes service account token (GKE workload identity, audience
 * `identitynamespace:<project>.svc.id.goog:<identity provider>`) or of an external identity (a
 * workload identity pool provider, audience `//iam.googleapis.com/projects/N/…/providers/R`) for
 * a federated access token. Only subject tokens a test trusted are exchanged.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import { decodeJwt, epochSeconds } from "./_azure-jwt.ts";
import type { GoogleTokens } from "./_google-tokens.ts";
import { GoogleOAuthError, scopeList } from "./_google-tokens.ts";

export const tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
export const accessTokenType = "urn:ietf:params:oauth:token-type:access_token";
export const subjectTokenTypes = [
  "urn:ietf:params:oauth:token-type:jwt",
  "urn:ietf:params:oauth:token-type:id_token",
] as const;

/** One token exchange, and what came of it. */
export interface StsCall {
  host: string;
  grantType?: string;
  /** As sent: GKE's identity namespace form or a workload identity pool provider. */
  audience?: string;
  /** Which form the audience has (`gke`: `identitynamespace:…`; `pool`: `//iam.googleapis.com/…`). */
  audienceKind?: "gke" | "pool";
  /** From a GKE audience: the project of `<project>.svc.id.goog` and the identity provider. */
  project?: string;
  identityProvider?: string;
  subjectTokenType?: string;
  requestedTokenType?: string;
  scopes?: string[];
  subjectToken?: string;
  /** The subject token's `sub`, when it is a JWT. */
  subject?: string;
  /** The federated principal the access token is for. */
  principal?: string;
  /** `"ok"`, or the OAuth error answered (`invalid_grant`, `invalid_request`, …). */
  outcome: string;
  message?: string;
  accessToken?: string;
  expiresAt?: Date;
}

export interface SubjectTokenOptions {
  /** The STS audience it is good for; default any. */
  audience?: string;
  /** Default `system:serviceaccount:default:default`. */
  subject?: string;
  /** Default a GKE-style OIDC issuer. */
  issuer?: string;
  /** The JWT's own `aud`; default the STS audience, else `sts.googleapis.com`. */
  tokenAudience?: string;
  /** Default 3600; negative for a token already expired. */
  validitySeconds?: number;
}

interface _Deps {
  emulator: Pick<Emulator, "route">;
  tokens: GoogleTokens;
  /** token -> the STS audience it is bound to (undefined: any). */
  trusted: Map<string, string | undefined>;
  calls: StsCall[];
  validitySeconds: () => number;
}

const _gkeAudience = /^identitynamespace:(?<project>[a-z0-9][a-z0-9-:.]*?)\.svc\.id\.goog:(?<provider>\S+)$/;
const _poolAudience =
  /^\/\/iam\.googleapis\.com\/projects\/(?<number>\d+)\/locations\/global\/workloadIdentityPools\/(?<pool>[a-z0-9-]+)\/providers\/(?<provider>[a-z0-9-]+)$/;

export function installGoogleSts(deps: _Deps): void {
  deps.emulator.route(
    { id: "google.sts", host: "sts.googleapis.com", method: "POST", path: "/v1/token" },
    (req, ctx) => _exchange(deps, req, ctx),
  );
}

function _field(body: Record<string, unknown> | URLSearchParams, name: string): string | undefined {
  const value = body instanceof URLSearchParams ? body.get(name) : body[name];
  return typeof value === "string" ? value : undefined;
}

function _exchange(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const call: StsCall = { host: req.host, outcome: "pending" };
  deps.calls.push(call);
  try {
    // google-auth-library sends a form; Google's Go libraries and curl users often send JSON.
    const isJson = /^application\/json\b/i.test(String(req.headers["content-type"] ?? ""));
    let body: Record<string, unknown> | URLSearchParams;
    if (isJson) {
      const parsed = (() => {
        try {
          return JSON.parse(req.body) as unknown;
        } catch {
          return undefined;
        }
      })();
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new GoogleOAuthError(400, "invalid_request", "The request body is not a JSON object.");
      }
      body = parsed as Record<string, unknown>;
    } else {
      body = req.form();
    }
    call.grantType = _field(body, "grant_type");
    call.audience = _field(body, "audience");
    call.subjectTokenType = _field(body, "subject_token_type");
    call.requestedTokenType = _field(body, "requested_token_type");
    call.subjectToken = _field(body, "subject_token");
    const scope = body instanceof URLSearchParams ? body.get("scope") : body.scope;
    if (scope !== null && scope !== undefined) call.scopes = scopeList(scope);

    if (call.grantType !== tokenExchangeGrant) {
      throw new GoogleOAuthError(
        400,
        "unsupported_grant_type",
        `Invalid value for "grant_type": ${call.grantType ?? "(missing)"}; expected ${tokenExchangeGrant}.`,
      );
    }
    if (call.requestedTokenType !== accessTokenType) {
      throw new GoogleOAuthError(
        400,
        "invalid_request",
        `Invalid value for "requested_token_type": ${call.requestedTokenType ?? "(missing)"}; expected ${accessTokenType}.`,
      );
    }
    if (!subjectTokenTypes.includes(call.subjectTokenType as (typeof subjectTokenTypes)[number])) {
      throw new GoogleOAuthError(
        400,
        "invalid_request",
        `Invalid value for "subject_token_type": ${call.subjectTokenType ?? "(missing)"}; expected one of ${subjectTokenTypes.join(", ")}.`,
      );
    }
    const gke = _gkeAudience.exec(call.audience ?? "");
    const pool = _poolAudience.exec(call.audience ?? "");
    if (gke?.groups) {
      call.audienceKind = "gke";
      call.project = gke.groups.project;
      call.identityProvider = gke.groups.provider;
    } else if (pool) {
      call.audienceKind = "pool";
    } else {
      throw new GoogleOAuthError(
        400,
        "invalid_request",
        `Invalid value for "audience": ${call.audience ?? "(missing)"}. This value should be the full resource name of the Identity Provider (//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R) or a GKE identity namespace (identitynamespace:<project>.svc.id.goog:<identity provider>).`,
      );
    }
    if (!call.scopes?.length) {
      throw new GoogleOAuthError(
        400,
        "invalid_scope",
        'Missing "scope": the exchanged token would carry no scope.',
      );
    }
    if (!call.subjectToken) throw new GoogleOAuthError(400, "invalid_request", 'Missing "subject_token".');
    const jwt = decodeJwt(call.subjectToken);
    if (typeof jwt?.claims.sub === "string") call.subject = jwt.claims.sub;
    if (!deps.trusted.has(call.subjectToken)) {
      throw new GoogleOAuthError(
        400,
        "invalid_grant",
        "The subject token is not trusted by this identity provider (cloud emulator: not registered with trustSubjectToken or issueSubjectToken).",
      );
    }
    const boundTo = deps.trusted.get(call.subjectToken);
    if (boundTo !== undefined && boundTo !== call.audience) {
      throw new GoogleOAuthError(
        400,
        "invalid_grant",
        `The subject token is for audience ${boundTo}, not ${call.audience}.`,
      );
    }
    if (typeof jwt?.claims.exp === "number" && jwt.claims.exp <= epochSeconds()) {
      throw new GoogleOAuthError(400, "invalid_grant", "The subject token has expired.");
    }
    call.principal = _principal(call);
    const seconds = ctx.expired ? 0 : deps.validitySeconds();
    const expiresAt = new Date(Date.now() + (ctx.expired ? -60_000 : seconds * 1000));
    const issued = deps.tokens.issue(ctx.issueSecret, {
      source: "sts",
      principal: call.principal,
      scopes: call.scopes,
      expiresAt,
    });
    Object.assign(call, { outcome: "ok", accessToken: issued.token, expiresAt });
    return json(200, {
      access_token: issued.token,
      issued_token_type: accessTokenType,
      token_type: "Bearer",
      expires_in: seconds,
    });
  } catch (error) {
    if (!(error instanceof GoogleOAuthError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return json(error.status, { error: error.code, error_description: error.message });
  }
}

/** How IAM names the federated identity: a GKE KSA member, or a pool subject. */
function _principal(call: StsCall): string {
  const subject = call.subject ?? "unknown";
  if (call.audienceKind === "gke") {
    const ksa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
    return ksa
      ? `serviceAccount:${call.project}.svc.id.goog[${ksa[1]}/${ksa[2]}]`
      : `principal://iam.googleapis.com/projects/-/locations/global/workloadIdentityPools/${call.project}.svc.id.goog/subject/${subject}`;
  }
  const pool = (call.audience ?? "")
    .replace(/^\/\/iam\.googleapis\.com\//, "")
    .replace(/\/providers\/[^/]+$/, "");
  return `principal://iam.googleapis.com/${pool}/subject/${subject}`;
}
