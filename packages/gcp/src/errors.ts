/**
 * What a token source threw, as a typed error. The default sources throw only typed errors
 * (core's `CloudCallError`s, and `CredentialProviderError`s for configuration), which pass
 * through. Anything else comes from a custom token source, and its message is not repeated: a
 * library's error can quote what it failed on, an answer with a token in it (google-auth-library's
 * TypeError on a token answer missing a brace did), so only its class is told.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";

/**
 * Maps anything a token source threw to a typed error. Once `signal` has fired, the harness's own
 * timeout error is what is reported.
 *
 * @param what The request, for the message: e.g. `access token for the node's default service account`.
 */
export function toTokenSourceError(
  error: unknown,
  what: string,
  signal?: AbortSignal,
): CredentialProviderError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof CredentialProviderError
      ? reason
      : new CredentialProviderError("TIMEOUT", `${what}: aborted at the deadline`);
  }
  if (error instanceof CredentialProviderError) return error;
  return new CredentialProviderError("INTERNAL", `${what}: the token source failed (${_className(error)})`, {
    cause: error,
  });
}

function _className(error: unknown): string {
  if (error instanceof Error) {
    const name = error.constructor?.name || error.name;
    // A class name is an identifier; anything else is not shown.
    return /^[A-Za-z_$][\w$]{0,60}$/.test(name) ? name : "Error";
  }
  return error === null ? "null" : typeof error;
}
