/**
 * Typed errors. Code anywhere throws a `CredentialProviderError` with a code; only the harness
 * turns it into a stderr line and an exit status, so every failure reads the same to an operator.
 */

export const errorCodes = [
  "USAGE",
  "BAD_REQUEST",
  "UNSUPPORTED_VERSION",
  "NOT_MY_REGISTRY",
  "CONFIG_INVALID",
  "CLOUD_AUTH_FAILED",
  "CLOUD_THROTTLED",
  "CLOUD_UNAVAILABLE",
  "TIMEOUT",
  "INVALID_RESPONSE",
  "INTERNAL",
] as const;

/** The codes of `CredentialProviderError`: what kind of failure it is. */
export type ErrorCode = (typeof errorCodes)[number];

const labels: Record<ErrorCode, string> = {
  USAGE: "usage",
  BAD_REQUEST: "bad request",
  UNSUPPORTED_VERSION: "unsupported apiVersion",
  NOT_MY_REGISTRY: "not this provider's registry",
  CONFIG_INVALID: "invalid configuration",
  CLOUD_AUTH_FAILED: "cloud authentication failed",
  CLOUD_THROTTLED: "cloud throttled the request",
  CLOUD_UNAVAILABLE: "cloud unavailable",
  TIMEOUT: "timed out",
  INVALID_RESPONSE: "invalid response",
  INTERNAL: "internal error",
};

/**
 * The error a provider throws to fail with a clear message: its `code` decides the message's
 * prefix, and the harness prints it on one stderr line and exits 1.
 */
export class CredentialProviderError extends Error {
  override readonly name = "CredentialProviderError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * What went wrong with a call to a cloud endpoint, as a class rather than text: providers and
 * the retry policy decide on it, never on a message.
 */
export const cloudFaults = [
  "throttled",
  "server-error",
  "connection",
  "timeout",
  "truncated",
  "too-large",
  "tls",
  "proxy",
  "malformed",
  "rejected",
  "expired",
] as const;

/**
 * How a cloud call failed: throttled, a server error, a timeout, TLS, a malformed answer, and so
 * on.
 */
export type CloudFault = (typeof cloudFaults)[number];

const faultCodes: Record<CloudFault, ErrorCode> = {
  throttled: "CLOUD_THROTTLED",
  "server-error": "CLOUD_UNAVAILABLE",
  connection: "CLOUD_UNAVAILABLE",
  timeout: "CLOUD_UNAVAILABLE",
  truncated: "CLOUD_UNAVAILABLE",
  "too-large": "INVALID_RESPONSE",
  tls: "CLOUD_UNAVAILABLE",
  proxy: "CLOUD_UNAVAILABLE",
  malformed: "INVALID_RESPONSE",
  rejected: "CLOUD_AUTH_FAILED",
  expired: "INVALID_RESPONSE",
};

/** What a failed cloud call was and how it failed, as `CloudCallError` reports it. */
export interface CloudCallErrorDetails {
  /** The endpoint in words: `ECR GetAuthorizationToken (us-west-2)`, `IMDS token`. */
  endpoint: string;
  fault: CloudFault;
  /** What happened, after the endpoint's name: `throttled (HTTP 429)`. Never a response body. */
  detail: string;
  status?: number | undefined;
  /** The network error code (`ECONNRESET`) or the cloud's error code (`ThrottlingException`). */
  cause?: string | undefined;
  attempts?: number | undefined;
  elapsedMs?: number | undefined;
  /** The error code to report; default by fault. */
  code?: ErrorCode | undefined;
}

/**
 * A failed call to a cloud endpoint, after the retries the deadline allowed. The message names
 * the endpoint, the fault and, when retried, for how long: "ECR GetAuthorizationToken (us-west-2)
 * throttled (HTTP 429) for 48 s (12 attempts)".
 */
export class CloudCallError extends CredentialProviderError {
  readonly endpoint: string;
  readonly fault: CloudFault;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly faultCause: string | undefined;

  constructor(details: CloudCallErrorDetails, options?: { cause?: unknown }) {
    const attempts = details.attempts ?? 1;
    const elapsedMs = details.elapsedMs ?? 0;
    const retried = attempts > 1 ? ` for ${Math.round(elapsedMs / 1000)} s (${attempts} attempts)` : "";
    super(
      details.code ?? faultCodes[details.fault],
      `${details.endpoint} ${details.detail}${retried}`,
      options,
    );
    this.endpoint = details.endpoint;
    this.fault = details.fault;
    this.status = details.status;
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
    this.faultCause = details.cause;
  }
}

/** Whether `value` is a `CloudCallError`. */
export function isCloudCallError(value: unknown): value is CloudCallError {
  return value instanceof CloudCallError;
}

/** Whether `value` is a `CredentialProviderError` (a `CloudCallError` is one). */
export function isCredentialProviderError(value: unknown): value is CredentialProviderError {
  return value instanceof CredentialProviderError;
}

/** A short human label for a code, as printed before the message. */
export function describeErrorCode(code: ErrorCode): string {
  return labels[code];
}

/**
 * The exit status for a failure. The kubelet treats every non-zero status alike (it logs stderr
 * and pulls without credentials), so all failures share one status that scripts can rely on.
 */
export function exitCodeFor(_code: ErrorCode): number {
  return 1;
}

/** Wraps anything thrown into a typed error, keeping typed errors as they are. */
export function toCredentialProviderError(value: unknown): CredentialProviderError {
  if (value instanceof CredentialProviderError) return value;
  if (value instanceof Error) {
    return new CredentialProviderError("INTERNAL", value.message || value.name, { cause: value });
  }
  return new CredentialProviderError("INTERNAL", String(value));
}

/**
 * Node's codes for a connection that failed or dropped (including undici's and the AWS SDK's):
 * the cloud could not be reached, which is CLOUD_UNAVAILABLE rather than a wrong credential.
 */
export const networkErrorCodes: ReadonlySet<string> = new Set([
  "EAI_AGAIN",
  "ECONNABORTED",
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETDOWN",
  "ENETUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "EPROTO",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "ETIMEDOUT",
  "REQUEST_SEND_ERROR",
  "UND_ERR_SOCKET",
]);

/** Node's codes for a server certificate it did not trust: usually a missing NODE_EXTRA_CA_CERTS. */
export const tlsErrorCodes: ReadonlySet<string> = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  // A certificate whose issuer's name matches a trusted CA's but whose signature is another key's.
  "CERT_SIGNATURE_FAILURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

/** The first string `code` on an error or on its causes: SDKs wrap the socket error they met. */
export function errorCodeOf(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
