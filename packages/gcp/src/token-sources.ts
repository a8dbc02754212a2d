/**
 * The default token sources: every identity's access token from this package's own modules, each
 * call on core's HTTP client (`context.http`) with its endpoint in words, so that one retry
 * policy, one deadline, one proxy rule set and one size cap apply to all of them, and no answer is
 * ever quoted in an error:
 *
 * - the node's default service account: the metadata server (metadata.ts, "GCE metadata token");
 * - Application Default Credentials (adc.ts): a service account key or a user's refresh token at
 *   Google OAuth2 (oauth2.ts, "Google OAuth2 token (...)"), an external account at STS (sts.ts,
 *   "Google STS token exchange") and IAM credentials;
 * - impersonation: IAM credentials' generateAccessToken (iam.ts, "IAM generateAccessToken (...)");
 * - a workload identity pool: STS, then IAM credentials for the annotated service account.
 *
 * Why not google-auth-library (11.3.4, read for this decision): its clients could not all be
 * routed through core by its public API, and its token handling turns a bad answer into a secret
 * on stderr.
 * - `Compute` (the metadata server) calls gcp-metadata, which uses gaxios's shared instance and
 *   takes no transport: routing it meant rewriting the global `instance.defaults`.
 * - External account clients build their `StsCredentials` without passing their transporter
 *   (`baseexternalclient.js`), so the STS exchange ignores `transporterOptions` and uses a default
 *   Gaxios, with its own proxy handling: routing it meant replacing a private field.
 * - `OAuth2Client.refreshAccessTokenAsync` (Compute, UserRefreshClient) sets
 *   `tokens.refresh_token` on whatever the answer parsed to; gaxios hands back the text of a body
 *   that is not JSON, so a token answer missing a brace becomes a TypeError quoting the token.
 *   And `expires_in: 0` is read as "no expiry", not as expired.
 * What remained (an RS256 signature, two form POSTs) is a few lines of node:crypto and core, so
 * the library is not used at all; its debug logging, its warnings and its retries go with it.
 */

import { credentialsToken, parseCredentials, readCredentialsFile } from "./adc.ts";
import type { ExternalAccountContext } from "./external-account.ts";
import { generateAccessToken } from "./iam.ts";
import type {
  GoogleAccessToken,
  NodeIdentitySpec,
  TokenSource,
  TokenSourceContext,
  TokenSourceFactory,
  TokenSourceSpec,
} from "./identity.ts";
import { fetchMetadataToken } from "./metadata.ts";
import { exchangeAtSts, JWT_TOKEN_TYPE } from "./sts.ts";

/** Extra seams for tests. */
export interface TokenSourceOptions {
  /** Reads GOOGLE_APPLICATION_CREDENTIALS and credential_source files; default node:fs. */
  readFile?: (path: string) => Promise<string>;
}

/** Builds the token source for an identity. */
export function createTokenSourceFactory(options: TokenSourceOptions = {}): TokenSourceFactory {
  return (spec, context): TokenSource => {
    const call: _Context = {
      http: context.http,
      log: context.log,
      secrets: context.secrets,
      env: context.env,
      now: context.now ?? Date.now,
      ...(options.readFile && { readFile: options.readFile }),
    };
    return { getAccessToken: () => _token(spec, call) };
  };
}

/** The factory the executable uses. */
export const createTokenSource: TokenSourceFactory = createTokenSourceFactory();

type _Context = ExternalAccountContext & Pick<TokenSourceContext, "env">;

async function _token(spec: TokenSourceSpec, context: _Context): Promise<GoogleAccessToken> {
  switch (spec.kind) {
    case "metadata":
    case "applicationDefault":
      return _nodeToken(spec, context);
    case "impersonated": {
      const source = await _nodeToken(spec.source, context);
      return generateAccessToken({ email: spec.targetPrincipal, sourceToken: source.token }, context);
    }
    case "workloadIdentityPool": {
      const federated = await exchangeAtSts(
        {
          audience: spec.audience,
          subjectToken: spec.subjectToken,
          subjectTokenType: JWT_TOKEN_TYPE,
          encoding: "form",
          hint: "the pool provider must trust the cluster's service account issuer, and --workload-identity-provider must name it",
        },
        context,
      );
      if (!spec.serviceAccount) return federated;
      return generateAccessToken({ email: spec.serviceAccount, sourceToken: federated.token }, context);
    }
  }
}

async function _nodeToken(spec: NodeIdentitySpec, context: _Context): Promise<GoogleAccessToken> {
  if (spec.kind === "metadata") return fetchMetadataToken(context);
  const json = await readCredentialsFile(spec.file, context, context.readFile);
  return credentialsToken(parseCredentials(json, spec.file), context);
}
