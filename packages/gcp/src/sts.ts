/**
 * GKE workload identity for image pulls: the pod's service account token (the kubelet's
 * service-account mode) exchanged at Google STS for a federated access token of the cluster's
 * workload identity pool, as the Go plugin does when the service account is annotated
 * `iam.gke.io/enable-wi-image-pull: "true"` and `--identity-provider` is set. The call goes
 * through core's HTTP client: a JSON body, fields exactly as Google STS documents them.
 */
import type { HttpClient, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CredentialProviderError } from "@kubelet-credential-provider/core";

export const STS_TOKEN_URL = "https://sts.googleapis.com/v1/token";
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** The audience of a GKE workload identity exchange: `identitynamespace:<project>.svc.id.goog:<identity provider>`. */
export function gkeWorkloadIdentityAudience(projectId: string, identityProvider: string): string {
  return `identitynamespace:${projectId}.svc.id.goog:${identityProvider}`;
}

/** The body of the STS request, without the subject token. */
export function stsRequestFields(audience: string): Record<string, string> {
  return {
    audience,
    grant_type: TOKEN_EXCHANGE_GRANT,
    requested_token_type: ACCESS_TOKEN_TYPE,
    scope: CLOUD_PLATFORM_SCOPE,
    subject_token_type: JWT_TOKEN_TYPE,
  };
}

export interface StsContext {
  http: HttpClient;
  log: Logger;
  secrets: SecretRegistry;
}

export interface FederatedToken {
  token: string;
  /** From `expires_in`, when given. */
  expiresAt?: Date;
}

/**
 * Exchanges the service account token at Google STS. The federated token is registered as a secret.
 *
 * @throws CredentialProviderError `CLOUD_AUTH_FAILED` when STS refuses (4xx), `INVALID_RESPONSE`
 *   for an answer without an access token, `CLOUD_UNAVAILABLE`/`CLOUD_THROTTLED` from the client.
 */
export async function exchangeAtSts(
  request: { audience: string; subjectToken: string; now: number },
  { http, log, secrets }: StsContext,
): Promise<FederatedToken> {
  const what = `Google STS token exchange (POST ${STS_TOKEN_URL})`;
  log.v(4, `${what}: audience ${request.audience}`);
  const response = await http.request(STS_TOKEN_URL, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ ...stsRequestFields(request.audience), subject_token: request.subjectToken }),
  });
  let body: unknown;
  try {
    body = JSON.parse(response.text());
  } catch {
    body = undefined;
  }
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof fields.access_token === "string") secrets.add(fields.access_token);
  if (response.status !== 200) {
    const detail = [fields.error, fields.error_description]
      .filter((part): part is string => typeof part === "string" && part !== "")
      .join(": ")
      .slice(0, 300);
    const text = `${what} answered ${response.status}${detail ? `: ${detail}` : ""}`;
    if (response.status >= 300 && response.status < 400) {
      throw new CredentialProviderError("INVALID_RESPONSE", `${text} (redirects are not followed)`);
    }
    throw new CredentialProviderError(
      "CLOUD_AUTH_FAILED",
      `${text} (the workload identity pool must trust the cluster's identity provider, and the token's audience must be the pool)`,
    );
  }
  if (body === undefined) {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `${what} answered 200 with a body that is not JSON`,
    );
  }
  const token = fields.access_token;
  if (typeof token !== "string" || token.trim() === "") {
    throw new CredentialProviderError("INVALID_RESPONSE", `${what} answered 200 without an access_token`);
  }
  const expiresIn = fields.expires_in;
  const seconds = typeof expiresIn === "string" && /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn;
  return {
    token,
    ...(typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0
      ? { expiresAt: new Date(request.now + seconds * 1000) }
      : {}),
  };
}
