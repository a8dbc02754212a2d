/**
 * What a cloud call threw, as a typed error. Typed errors only are read, never message text:
 *
 * - core's `CloudCallError` (the request handler's transport failures, retries exhausted, answers
 *   too large) and any other `CredentialProviderError` pass through untouched;
 * - the SDK's service exceptions (a 4xx answer the SDK parsed) by their `name`, the AWS error
 *   code, and `$metadata.httpStatusCode`: a `CloudCallError` naming the endpoint, the code and the
 *   status, never AWS's message (it is part of the answer's body);
 * - an answer the SDK could not parse (`$metadata` without `$fault`): `malformed`;
 * - `EndpointError` (a custom endpoint with a FIPS/dual-stack host), `AbortError`.
 */
import type { CloudFault } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import { THROTTLING_CODES } from "./aws-codes.ts";

/** The call that failed, for the message: `ECR GetAuthorizationToken (us-west-2)`. */
export interface CloudCall {
  service: "ECR" | "ECR Public" | "STS";
  operation: string;
  region: string;
}

export const MISSING_CREDENTIALS_HINT =
  "give the node AWS credentials: an EC2 instance profile (IMDS, unless AWS_EC2_METADATA_DISABLED is set), " +
  "or in this provider's env in the kubelet config AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
  "AWS_PROFILE with AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE";

interface _SdkErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The endpoint of a call in words: `ECR GetAuthorizationToken (us-west-2)`. */
export function endpointOf(call: CloudCall): string {
  return `${call.service} ${call.operation} (${call.region})`;
}

/**
 * Maps anything a cloud call threw to a typed error. Once `signal` has fired, the harness's own
 * timeout error is what is reported.
 *
 * @param endpoint the call, in words
 */
export function toCloudError(
  error: unknown,
  endpoint: string,
  signal?: AbortSignal,
): CredentialProviderError {
  if (error instanceof CredentialProviderError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof CredentialProviderError
      ? reason
      : new CredentialProviderError("TIMEOUT", `${endpoint}: aborted at the deadline`);
  }
  const shape = (typeof error === "object" && error !== null ? error : {}) as _SdkErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const status =
    typeof shape.$metadata?.httpStatusCode === "number" ? shape.$metadata.httpStatusCode : undefined;
  const options = { cause: error };

  if (name === "AbortError")
    return new CredentialProviderError("TIMEOUT", `${endpoint}: the request was aborted`, options);
  if (name === "EndpointError") {
    return new CredentialProviderError(
      "CONFIG_INVALID",
      `${endpoint}: no endpoint fits the settings (a custom endpoint from AWS_ENDPOINT_URL* or endpoint_url cannot be combined with a FIPS or dual-stack registry host)`,
      options,
    );
  }
  if (shape.$fault === "client" || shape.$fault === "server") {
    const code = /^[A-Za-z][\w.]{0,127}$/.test(name) ? name : "an unnamed error";
    const http = status === undefined ? "" : `, HTTP ${status}`;
    let fault: CloudFault = "rejected";
    let detail = `refused the call (${code}${http})`;
    if (THROTTLING_CODES.has(name) || status === 429) {
      fault = "throttled";
      detail = `throttled (${code}${http})`;
    } else if (shape.$fault === "server" || (status !== undefined && status >= 500)) {
      fault = "server-error";
      detail = `failed (${code}${http})`;
    }
    return new CloudCallError({ endpoint, fault, detail, status, cause: code }, options);
  }
  if (shape.$metadata !== undefined && typeof shape.$metadata === "object") {
    // The SDK could not read the answer: its message offers the raw response, which stays unread.
    return new CloudCallError(
      {
        endpoint,
        fault: "malformed",
        status,
        detail: `answered${status === undefined ? "" : ` HTTP ${status}`} with a body that could not be read`,
      },
      options,
    );
  }
  if (name === "CredentialsProviderError") {
    const message = typeof shape.message === "string" ? _firstLine(shape.message) : name;
    return new CredentialProviderError("CONFIG_INVALID", `${endpoint}: ${message}`, options);
  }
  const message = typeof shape.message === "string" ? _firstLine(shape.message) : "";
  return new CredentialProviderError(
    "INTERNAL",
    `${endpoint}: ${name}${message && message !== name ? `: ${message}` : ""}`,
    options,
  );
}

function _firstLine(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? "").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
