/**
 * Service account impersonation: IAM credentials' `generateAccessToken`, with the caller's access
 * token as the bearer, through core's HTTP client (endpoint "IAM generateAccessToken (<email>)").
 * Used for `--impersonate-service-account`, for a workload identity pool that acts as the
 * annotated service account, and for credentials files that name a
 * `service_account_impersonation_url`.
 */
import type { CallContext } from "./answers.ts";
import { readIamTokenAnswer } from "./answers.ts";
import type { GoogleAccessToken } from "./identity.ts";
import { CLOUD_PLATFORM_SCOPE } from "./sts.ts";

export const IAM_CREDENTIALS_BASE = "https://iamcredentials.googleapis.com/v1/";
/** Google's default, and the longest it allows without an organization policy. */
export const DEFAULT_IMPERSONATION_LIFETIME_SECONDS = 3600;

/** The generateAccessToken URL of a service account. */
export function generateAccessTokenUrl(email: string): string {
  return `${IAM_CREDENTIALS_BASE}projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`;
}

/** The endpoint in words. */
export function iamEndpoint(email: string): string {
  return `IAM generateAccessToken (${email})`;
}

export interface Impersonation {
  /** The service account to impersonate. */
  email: string;
  /** The caller's access token. */
  sourceToken: string;
  /** Default {@link generateAccessTokenUrl}; a credentials file's `service_account_impersonation_url`. */
  url?: string;
  lifetimeSeconds?: number;
  delegates?: readonly string[];
}

/**
 * An access token of `email`, obtained with the caller's token.
 *
 * @throws CloudCallError `rejected` when IAM refuses (the caller lacks
 *   roles/iam.serviceAccountTokenCreator, or its token), `malformed`, `expired`, and what core's
 *   client throws after its retries.
 */
export async function generateAccessToken(
  request: Impersonation,
  context: CallContext,
): Promise<GoogleAccessToken> {
  const { http, log, secrets } = context;
  secrets.add(request.sourceToken);
  const url = request.url ?? generateAccessTokenUrl(request.email);
  const endpoint = iamEndpoint(request.email);
  log.v(4, `${endpoint}: POST ${url}`);
  const response = await http.request(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${request.sourceToken}`,
      "content-type": "application/json",
      accept: "application/json",
    },
    body: JSON.stringify({
      scope: [CLOUD_PLATFORM_SCOPE],
      delegates: [...(request.delegates ?? [])],
      lifetime: `${request.lifetimeSeconds ?? DEFAULT_IMPERSONATION_LIFETIME_SECONDS}s`,
    }),
    endpoint,
  });
  const hint =
    response.status === 403
      ? `the caller needs roles/iam.serviceAccountTokenCreator on ${request.email}`
      : response.status === 401
        ? "the caller's access token was not accepted"
        : response.status === 404
          ? `no service account ${request.email}`
          : undefined;
  return readIamTokenAnswer(response, endpoint, context, hint);
}
