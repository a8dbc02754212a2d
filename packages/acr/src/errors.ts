/**
 * Errors from @azure/identity (and the MSAL library under it) that no HTTP call explains, turned
 * into one clear line with a code. A failed call is reported as core's `CloudCallError` instead
 * (azure-http.ts keeps it, since MSAL rewords it as `network_error`); what is left here is the
 * SDK's own refusals (no token file, a bad certificate) and errors from fakes. The SDK throws
 * `AuthenticationError` (Entra's answer: `statusCode`, `errorResponse.error` and
 * `errorDescription` with the AADSTS code), `CredentialUnavailableError` (no managed identity
 * endpoint, no token file), `AggregateAuthenticationError`, `RestError` (`statusCode`, a Node
 * network `code`) and `AbortError`. Trace and correlation ids, timestamps and stacks are left out.
 */
import type { ErrorCode } from "@kubelet-credential-provider/core";
import {
  CredentialProviderError,
  errorCodeOf,
  networkErrorCodes,
  tlsErrorCodes,
} from "@kubelet-credential-provider/core";

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  errorResponse?: { error?: unknown; errorDescription?: unknown; error_description?: unknown };
  errors?: unknown;
  cause?: unknown;
}

// AADSTS codes that mean "try later" rather than "refused".
const AADSTS_THROTTLED = new Set(["50196"]);
const AADSTS_UNAVAILABLE = new Set(["90033", "90055", "500011", "50000"]);

/**
 * Maps anything the token request threw to a typed error. A `CredentialProviderError` passes
 * through; once `signal` has fired, the harness's own timeout error is what is reported.
 *
 * @param what The request, for the message: e.g. `Entra token for managed identity`.
 */
export function toEntraError(error: unknown, what: string, signal?: AbortSignal): CredentialProviderError {
  if (error instanceof CredentialProviderError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof CredentialProviderError
      ? reason
      : new CredentialProviderError("TIMEOUT", `${what}: aborted at the deadline`);
  }
  let shape = (typeof error === "object" && error !== null ? error : {}) as ErrorShape;
  // AggregateAuthenticationError: the first cause says it.
  if (
    shape.name === "AggregateAuthenticationError" &&
    Array.isArray(shape.errors) &&
    shape.errors.length > 0
  ) {
    const first: unknown = shape.errors[0];
    if (typeof first === "object" && first !== null) shape = first as ErrorShape;
  }
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const description =
    typeof shape.errorResponse?.errorDescription === "string"
      ? shape.errorResponse.errorDescription
      : typeof shape.errorResponse?.error_description === "string"
        ? shape.errorResponse.error_description
        : "";
  const rawMessage = typeof shape.message === "string" ? shape.message : String(error);
  const message = cleanMessage(description || rawMessage);
  const status = typeof shape.statusCode === "number" ? shape.statusCode : undefined;
  const entraCode = typeof shape.errorResponse?.error === "string" ? shape.errorResponse.error : undefined;
  const aadsts = /AADSTS(\d+)/.exec(`${description} ${rawMessage}`)?.[1];
  const code = errorCodeOf(shape);
  const typed = (errorCode: ErrorCode, text: string) =>
    new CredentialProviderError(errorCode, text, { cause: error });
  const detail = () => {
    const facts = [
      status !== undefined && `HTTP ${status}`,
      entraCode && !message.includes(entraCode) && entraCode,
    ];
    const suffix = facts.filter(Boolean).join(", ");
    return `${what}: ${message || name}${suffix ? ` (${suffix})` : ""}`;
  };

  if (name === "AbortError") return typed("TIMEOUT", `${what}: the request was aborted`);
  if (status === 429 || (aadsts !== undefined && AADSTS_THROTTLED.has(aadsts))) {
    return typed("CLOUD_THROTTLED", detail());
  }
  if (
    (status !== undefined && status >= 500) ||
    entraCode === "temporarily_unavailable" ||
    (aadsts !== undefined && AADSTS_UNAVAILABLE.has(aadsts))
  ) {
    return typed("CLOUD_UNAVAILABLE", detail());
  }
  if (aadsts !== undefined) return typed("CLOUD_AUTH_FAILED", detail());
  if (code !== undefined && tlsErrorCodes.has(code)) {
    return typed(
      "CLOUD_UNAVAILABLE",
      `${what}: TLS: ${message || code} (a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS)`,
    );
  }
  if (code !== undefined && networkErrorCodes.has(code))
    return typed("CLOUD_UNAVAILABLE", `${what}: ${message || code}`);
  if (/\b(timed? ?out|ETIMEDOUT|network|socket hang up|ECONNREFUSED|ENOTFOUND)\b/i.test(rawMessage)) {
    return typed("CLOUD_UNAVAILABLE", detail());
  }
  if (
    name === "AuthenticationError" ||
    name === "CredentialUnavailableError" ||
    name === "AuthenticationRequiredError"
  ) {
    return typed("CLOUD_AUTH_FAILED", detail());
  }
  if (status !== undefined && status >= 400) return typed("CLOUD_AUTH_FAILED", detail());
  if (name === "TypeError" || name === "ReferenceError" || name === "RangeError" || name === "SyntaxError") {
    return typed("INTERNAL", `${what}: ${name}: ${message}`);
  }
  return typed("CLOUD_AUTH_FAILED", detail());
}

/**
 * The useful first part of an Entra or SDK message: the first line, without trace and correlation
 * ids, timestamps and links (MSAL's "See https://aka.ms/... for details", the SDK's
 * troubleshooting pages), cut to a readable length.
 */
export function cleanMessage(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? "")
    .replace(/\s*Trace ID:.*$/i, "")
    .replace(/\s*Correlation ID:.*$/i, "")
    .replace(/\s*Timestamp:.*$/i, "")
    .replace(/\s*To troubleshoot, visit https?:\/\/\S+/i, "")
    .replace(/\s*For more details.*$/i, "")
    .replace(/\s*See https?:\/\/\S+ for details\.?/gi, "")
    .replace(/\s*https?:\/\/aka\.ms\/\S*/gi, "")
    .replace(/[\s|:]+$/, "")
    .trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
