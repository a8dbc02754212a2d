/**
 * AWS SDK errors, turned into one clear line with a code. The SDK throws service exceptions
 * (`name` is the AWS error code, `$metadata` has the HTTP status and attempt count), Node network
 * errors (`code`), `TimeoutError`, `CredentialsProviderError` when the default chain finds nothing,
 * `EndpointError` for an impossible endpoint, and `AbortError`. Request ids, stacks and raw
 * responses are left out.
 */
import type { ErrorCode } from "@kubelet-credential-provider/core";
import {
  CredentialProviderError,
  errorCodeOf,
  networkErrorCodes,
  tlsErrorCodes,
} from "@kubelet-credential-provider/core";

/** The call that failed, for the message: `ECR GetAuthorizationToken (us-west-2)`. */
export interface CloudCall {
  service: "ECR" | "ECR Public" | "STS";
  operation: string;
  region: string;
}

const THROTTLING = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);

const AUTH = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AuthFailure",
  "ExpiredToken",
  "ExpiredTokenException",
  "IDPRejectedClaim",
  "IncompleteSignature",
  "InvalidAccessKeyId",
  "InvalidClientTokenId",
  "InvalidIdentityToken",
  "InvalidSignatureException",
  "InvalidToken",
  "MissingAuthenticationToken",
  "MissingAuthenticationTokenException",
  "NotAuthorized",
  "RegionDisabledException",
  "RequestExpired",
  "SignatureDoesNotMatch",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
]);

const SERVER = new Set([
  "IDPCommunicationError",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "ServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
]);

export const MISSING_CREDENTIALS_HINT =
  "give the node AWS credentials: an EC2 instance profile (IMDS, unless AWS_EC2_METADATA_DISABLED is set), " +
  "or in this provider's env in the kubelet config AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
  "AWS_PROFILE with AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE";

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
  cause?: unknown;
}

/**
 * Maps anything a cloud call threw to a typed error. A `CredentialProviderError` passes through;
 * once `signal` has fired, the harness's own timeout error is what is reported.
 */
export function toCloudError(error: unknown, call: CloudCall, signal?: AbortSignal): CredentialProviderError {
  if (error instanceof CredentialProviderError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof CredentialProviderError
      ? reason
      : new CredentialProviderError("TIMEOUT", `${_where(call)}: aborted at the deadline`);
  }
  const shape = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const message = _clean(typeof shape.message === "string" ? shape.message : String(error));
  const code = errorCodeOf(shape);
  const status =
    typeof shape.$metadata?.httpStatusCode === "number" ? shape.$metadata.httpStatusCode : undefined;
  const attempts = typeof shape.$metadata?.attempts === "number" ? shape.$metadata.attempts : undefined;
  const where = _where(call);
  const detail = (label?: string) => {
    const text =
      label === undefined ? message : message && message !== label ? `${label}: ${message}` : label;
    const facts = [
      status !== undefined && `HTTP ${status}`,
      attempts !== undefined && attempts > 1 && `${attempts} attempts`,
    ];
    const suffix = facts.filter(Boolean).join(", ");
    return `${where}: ${text}${suffix ? ` (${suffix})` : ""}`;
  };
  const typed = (errorCode: ErrorCode, text: string) =>
    new CredentialProviderError(errorCode, text, { cause: error });

  if (name === "CredentialsProviderError") {
    return typed(
      "CLOUD_AUTH_FAILED",
      `no AWS credentials for ${where}: ${message || name}; ${MISSING_CREDENTIALS_HINT}`,
    );
  }
  if (name === "AbortError") return typed("TIMEOUT", `${where}: the request was aborted`);
  if (
    name === "EndpointError" ||
    /^Invalid Configuration|does not support (FIPS|DualStack|one or both)/.test(message)
  ) {
    return typed(
      "CONFIG_INVALID",
      `${where}: ${message} (a custom endpoint from AWS_ENDPOINT_URL* or endpoint_url cannot be combined with a FIPS or dual-stack registry host)`,
    );
  }
  if (status === 429 || THROTTLING.has(name)) return typed("CLOUD_THROTTLED", detail(name));
  if (status === 401 || status === 403 || AUTH.has(name)) return typed("CLOUD_AUTH_FAILED", detail(name));
  if ((status !== undefined && status >= 500) || shape.$fault === "server" || SERVER.has(name)) {
    return typed("CLOUD_UNAVAILABLE", detail(name));
  }
  if (code !== undefined && tlsErrorCodes.has(code)) {
    return typed(
      "CLOUD_UNAVAILABLE",
      `${where}: TLS: ${message || code} (a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS)`,
    );
  }
  if (/^proxy /.test(message)) return typed("CLOUD_UNAVAILABLE", detail());
  if (name === "TimeoutError" || name === "RequestTimeout" || name === "RequestTimeoutException") {
    // The HTTP handler's message names its own option; say what happened instead.
    const ms = /(\d+) ms/.exec(message)?.[1];
    const text = ms ? `no answer within ${ms} ms` : "no answer in time";
    return typed(
      "CLOUD_UNAVAILABLE",
      `${where}: ${text}${attempts !== undefined && attempts > 1 ? ` (${attempts} attempts)` : ""}`,
    );
  }
  if (code !== undefined && networkErrorCodes.has(code)) return typed("CLOUD_UNAVAILABLE", detail(code));
  if (/^Deserialization error/i.test(message) || (status !== undefined && status < 300)) {
    return typed(
      "INVALID_RESPONSE",
      `${where}: the answer could not be read${status ? ` (HTTP ${status})` : ""}`,
    );
  }
  if (shape.$fault === "client" || (status !== undefined && status >= 400)) {
    return typed("CLOUD_AUTH_FAILED", detail(name));
  }
  return typed("INTERNAL", `${where}: ${name}${message && message !== name ? `: ${message}` : ""}`);
}

function _where(call: CloudCall): string {
  return `${call.service} ${call.operation} (${call.region})`;
}

/** The first line of a message, without request ids, cut to a readable length. */
function _clean(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? "")
    .replace(
      /\s*[([]?\s*(?:Service: [^;)]*;\s*)?(?:Status Code: \d+;\s*)?(?:Error Code: [^;)]*;\s*)?Request ?ID:?\s*[\w-]+\s*[)\]]?/gi,
      "",
    )
    .trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
