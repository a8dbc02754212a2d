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

export class CredentialProviderError extends Error {
  override readonly name = "CredentialProviderError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

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
