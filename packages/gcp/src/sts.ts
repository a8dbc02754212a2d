/**
 * Google's Security Token Service: a subject token (a Kubernetes service account token, or an
 * external account's OIDC token) exchanged for a federated access token, through core's HTTP
 * client (endpoint "Google STS token exchange").
 *
 * - GKE workload identity for image pulls: the pod's token for the cluster's identity namespace,
 *   as the Go plugin does when the service account is annotated
 *   `iam.gke.io/enable-wi-image-pull: "true"` and `--identity-provider` is set; a JSON body, as
 *   the Go plugin sends it.
 * - A workload identity pool provider (`--workload-identity-provider`, or an `external_account`
 *   credentials file): a form body, as Google's client libraries send it, with the file's client
 *   authentication and workforce pool options when it has them.
 */

import type { CallContext } from "./answers.ts";
import { readTokenAnswer } from "./answers.ts";
import type { GoogleAccessToken } from "./identity.ts";

export const STS_TOKEN_URL = "https://sts.googleapis.com/v1/token";
export const STS_ENDPOINT = "Google STS token exchange";
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** The audience of a GKE workload identity exchange: `identitynamespace:<project>.svc.id.goog:<identity provider>`. */
export function gkeWorkloadIdentityAudience(projectId: string, identityProvider: string): string {
  return `identitynamespace:${projectId}.svc.id.goog:${identityProvider}`;
}

/** The body of the STS request, without the subject token. */
export function stsRequestFields(
  audience: string,
  subjectTokenType = JWT_TOKEN_TYPE,
): Record<string, string> {
  return {
    audience,
    grant_type: TOKEN_EXCHANGE_GRANT,
    requested_token_type: ACCESS_TOKEN_TYPE,
    scope: CLOUD_PLATFORM_SCOPE,
    subject_token_type: subjectTokenType,
  };
}

export interface StsExchange {
  audience: string;
  subjectToken: string;
  /** Default the JWT type. */
  subjectTokenType?: string;
  /** `json` as the Go plugin sends GKE's exchange, `form` as the client libraries send theirs. */
  encoding: "json" | "form";
  /** Default {@link STS_TOKEN_URL}; an `external_account` file's `token_url`. */
  tokenUrl?: string;
  /** An `external_account` file's client, authenticated with HTTP Basic. */
  client?: { id: string; secret?: string };
  /** An `external_account` file's STS options (a workforce pool's `userProject`). */
  options?: Record<string, string>;
  /** What usually causes a refusal, for the operator. */
  hint?: string;
}

/**
 * Exchanges the subject token at Google STS. The subject and federated tokens are registered as
 * secrets.
 *
 * @throws CloudCallError `rejected` when STS refuses (4xx), `malformed` for an answer that is not
 *   a token with a lifetime, `expired`, and what core's client throws after its retries.
 */
export async function exchangeAtSts(request: StsExchange, context: CallContext): Promise<GoogleAccessToken> {
  const { http, log, secrets } = context;
  secrets.add(request.subjectToken);
  const url = request.tokenUrl ?? STS_TOKEN_URL;
  log.v(4, `${STS_ENDPOINT}: POST ${url}, audience ${request.audience}`);
  const fields: Record<string, string> = {
    ...stsRequestFields(request.audience, request.subjectTokenType),
    subject_token: request.subjectToken,
    ...(request.options && { options: JSON.stringify(request.options) }),
  };
  const headers: Record<string, string> = { accept: "application/json" };
  if (request.client) {
    const basic = Buffer.from(
      `${encodeURIComponent(request.client.id)}:${encodeURIComponent(request.client.secret ?? "")}`,
    ).toString("base64");
    secrets.add(basic);
    headers.authorization = `Basic ${basic}`;
  }
  let body: string;
  if (request.encoding === "json") {
    headers["content-type"] = "application/json";
    body = JSON.stringify(fields);
  } else {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(fields).toString();
  }
  const response = await http.request(url, { method: "POST", headers, body, endpoint: STS_ENDPOINT });
  return readTokenAnswer(response, STS_ENDPOINT, context, request.hint);
}
