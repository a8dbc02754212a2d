/**
 * google-auth-library errors, turned into one clear line with a code. The library throws
 * `GaxiosError`s (`status` and `response.data`: OAuth's `{error, error_description}` or Google
 * APIs' `{error: {code, message, status}}`), the metadata client's `RangeError` for an answer
 * without `Metadata-Flavor: Google`, plain `Error`s for bad credentials files, and whatever the
 * transport threw as a `cause` (with the default factory, core's typed errors: those pass
 * through). Stacks, request bodies and headers are left out.
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
  status?: unknown;
  response?: { status?: unknown; data?: unknown };
  cause?: unknown;
}

/**
 * Maps anything a token request threw to a typed error. A `CredentialProviderError` (thrown, or
 * the cause of a library error) keeps its code; once `signal` has fired, the harness's own
 * timeout error is what is reported.
 *
 * @param what The request, for the message: e.g. `access token for the node's default service account`.
 */
export function toGoogleError(error: unknown, what: string, signal?: AbortSignal): CredentialProviderError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof CredentialProviderError
      ? reason
      : new CredentialProviderError("TIMEOUT", `${what}: aborted at the deadline`);
  }
  if (error instanceof CredentialProviderError) return error;
  const typedCause = _typedCause(error);
  if (typedCause) {
    return new CredentialProviderError(typedCause.code, `${what}: ${typedCause.message}`, { cause: error });
  }
  const shape = (typeof error === "object" && error !== null ? error : {}) as ErrorShape;
  const name = typeof shape.name === "string" ? shape.name : "Error";
  const rawMessage = typeof shape.message === "string" ? shape.message : String(error);
  const status =
    typeof shape.response?.status === "number"
      ? shape.response.status
      : typeof shape.status === "number"
        ? shape.status
        : undefined;
  const apiDetail = _apiDetail(shape.response?.data);
  const message = cleanMessage(apiDetail || rawMessage);
  const code = errorCodeOf(shape);
  const typed = (errorCode: ErrorCode, text: string) =>
    new CredentialProviderError(errorCode, text, { cause: error });
  const detail = () => `${what}: ${message || name}${status !== undefined ? ` (HTTP ${status})` : ""}`;

  if (name === "AbortError" || code === "AbortError")
    return typed("TIMEOUT", `${what}: the request was aborted`);
  if (name === "RangeError" && /Metadata-Flavor/i.test(rawMessage)) {
    return typed("INVALID_RESPONSE", `${what}: ${cleanMessage(rawMessage)}: not the metadata server`);
  }
  if (status === 429) return typed("CLOUD_THROTTLED", detail());
  if (status !== undefined && status >= 500) return typed("CLOUD_UNAVAILABLE", detail());
  if (status !== undefined && status >= 400) return typed("CLOUD_AUTH_FAILED", detail());
  if (code !== undefined && tlsErrorCodes.has(code)) {
    return typed(
      "CLOUD_UNAVAILABLE",
      `${what}: TLS: ${message || code} (a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS)`,
    );
  }
  if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
    return typed("CONFIG_INVALID", `${what}: ${message || code}`);
  }
  if (code !== undefined && networkErrorCodes.has(code))
    return typed("CLOUD_UNAVAILABLE", `${what}: ${message || code}`);
  if (/Could not load the default credentials/i.test(rawMessage)) {
    return typed(
      "CLOUD_AUTH_FAILED",
      `${what}: no Google credentials found (not on GCE, and GOOGLE_APPLICATION_CREDENTIALS is not set)`,
    );
  }
  if (
    /(does not contain|must contain|missing|is required|Unable to parse|not a valid|invalid) .*(field|json|key|credential|type)/i.test(
      rawMessage,
    ) ||
    /private key|PEM/i.test(rawMessage)
  ) {
    return typed("CONFIG_INVALID", `${what}: ${message}`);
  }
  if (name === "TypeError" || name === "ReferenceError" || name === "SyntaxError") {
    return typed("INTERNAL", `${what}: ${name}: ${message}`);
  }
  return typed("CLOUD_AUTH_FAILED", detail());
}

/**
 * The useful first part of a message: the first line, without the library's documentation links,
 * cut to a readable length.
 */
export function cleanMessage(message: string): string {
  const line = (message.split(/\r?\n/, 1)[0] ?? "")
    .replace(/\s*For more (details|information),? see https?:\/\/\S+/i, "")
    .trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** OAuth's `error: error_description`, or a Google API error's `message` (with its `status`). */
function _apiDetail(data: unknown): string {
  let value = data;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return "";
    }
  }
  if (typeof value !== "object" || value === null) return "";
  const body = value as { error?: unknown; error_description?: unknown };
  if (typeof body.error === "string") {
    return typeof body.error_description === "string" && body.error_description
      ? `${body.error}: ${body.error_description}`
      : body.error;
  }
  if (typeof body.error === "object" && body.error !== null) {
    const inner = body.error as { message?: unknown; status?: unknown };
    const parts = [inner.status, inner.message].filter((p): p is string => typeof p === "string" && p !== "");
    return parts.join(": ");
  }
  return "";
}

function _typedCause(error: unknown): CredentialProviderError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof CredentialProviderError) return current;
    current = (current as ErrorShape).cause;
  }
  return undefined;
}
