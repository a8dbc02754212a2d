/**
 * Google's OAuth2 token endpoint (`POST https://oauth2.googleapis.com/token`) for service account
 * key credentials: the JWT bearer grant, whose assertion must be an RS256 JWT signed by a key the
 * test registered (`serviceAccountKey(email)`), checked with node:crypto against its public key.
 */
import type { Emulator } from "../emulator.ts";
import type { EmulatorRequest, Reply } from "../request.ts";
import { json } from "../request.ts";
import type { RouteContext } from "../router.ts";
import { decodeJwt, epochSeconds, verifyJwtSignature } from "./_azure-jwt.ts";
import type { GoogleAccounts } from "./_google-accounts.ts";
import { googleOAuth2TokenUri } from "./_google-accounts.ts";
import type { GoogleTokens } from "./_google-tokens.ts";
import { GoogleOAuthError, scopeList } from "./_google-tokens.ts";

export const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** One JWT bearer grant, and what came of it. */
export interface OAuth2TokenCall {
  source: "oauth2";
  host: string;
  grantType?: string;
  /** The assertion's `iss`: the service account. */
  email?: string;
  /** The assertion header's `kid`, if it names one (google-auth-library sends none). */
  keyId?: string;
  aud?: string;
  scopes?: string[];
  /** `"ok"`, or the OAuth error answered (`invalid_grant`, `invalid_scope`, …). */
  outcome: string;
  message?: string;
  accessToken?: string;
  expiresAt?: Date;
}

interface _Deps {
  emulator: Pick<Emulator, "route">;
  accounts: GoogleAccounts;
  tokens: GoogleTokens;
  calls: OAuth2TokenCall[];
  validitySeconds: () => number;
}

// Google allows some clock skew either way.
const _skewSeconds = 300;

export function installGoogleOAuth2(deps: _Deps): void {
  deps.emulator.route(
    { id: "google.oauth2", host: "oauth2.googleapis.com", method: "POST", path: "/token" },
    (req, ctx) => _token(deps, req, ctx),
  );
}

function _token(deps: _Deps, req: EmulatorRequest, ctx: RouteContext): Reply {
  const call: OAuth2TokenCall = { source: "oauth2", host: req.host, outcome: "pending" };
  deps.calls.push(call);
  try {
    const form = req.form();
    call.grantType = form.get("grant_type") ?? undefined;
    if (call.grantType !== jwtBearerGrant) {
      throw new GoogleOAuthError(
        400,
        "unsupported_grant_type",
        `Invalid grant_type: ${call.grantType ?? ""}`,
      );
    }
    const assertion = form.get("assertion");
    if (!assertion)
      throw new GoogleOAuthError(400, "invalid_request", "Missing required parameter: assertion");
    const jwt = decodeJwt(assertion);
    if (!jwt) throw new GoogleOAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion.");
    const { claims, header } = jwt;
    if (typeof claims.iss === "string") call.email = claims.iss;
    if (typeof header.kid === "string") call.keyId = header.kid;
    if (typeof claims.aud === "string") call.aud = claims.aud;
    if (claims.scope !== undefined) call.scopes = scopeList(claims.scope);
    if (header.alg !== "RS256") throw new GoogleOAuthError(400, "invalid_grant", "Invalid JWT Signature.");
    let keys = call.email === undefined ? new Map() : deps.accounts.keys(call.email);
    if (keys.size === 0) throw new GoogleOAuthError(400, "invalid_grant", "Invalid grant: account not found");
    if (call.keyId !== undefined) keys = new Map([...keys].filter(([id]) => id === call.keyId));
    if (![...keys.values()].some((key) => verifyJwtSignature(jwt, key))) {
      throw new GoogleOAuthError(400, "invalid_grant", "Invalid JWT Signature.");
    }
    if (call.aud !== googleOAuth2TokenUri) {
      throw new GoogleOAuthError(
        400,
        "invalid_grant",
        `Invalid JWT: Failed audience check. The expected value was ${googleOAuth2TokenUri}, the value in the JWT was ${String(claims.aud)}.`,
      );
    }
    const now = epochSeconds();
    const { iat, exp } = claims;
    if (
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      exp - iat > 3600 ||
      exp <= now - _skewSeconds ||
      iat > now + _skewSeconds
    ) {
      throw new GoogleOAuthError(
        400,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
      );
    }
    if (!call.scopes?.length) {
      throw new GoogleOAuthError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }
    const seconds = ctx.expired ? 0 : deps.validitySeconds();
    const expiresAt = new Date(Date.now() + (ctx.expired ? -60_000 : seconds * 1000));
    const issued = deps.tokens.issue(ctx.issueSecret, {
      source: "oauth2",
      principal: (call.email as string).toLowerCase(),
      scopes: call.scopes,
      expiresAt,
    });
    Object.assign(call, { outcome: "ok", accessToken: issued.token, expiresAt });
    return json(200, { access_token: issued.token, expires_in: seconds, token_type: "Bearer" });
  } catch (error) {
    if (!(error instanceof GoogleOAuthError)) throw error;
    call.outcome = error.code;
    call.message = error.message;
    return json(error.status, { error: error.code, error_description: error.message });
  }
}
