/**
 * ECR's answer, turned into the kubelet's: `authorizationToken` is base64 of `user:password`
 * (the user is `AWS`), and the credential may be cached for half of its remaining validity.
 */
import { CredentialProviderError, cacheDurationUntil } from "@kubelet-credential-provider/core";

export interface RegistryLogin {
  username: string;
  password: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes an `authorizationToken` strictly (standard base64 with padding, as Go's
 * `base64.StdEncoding` does; UTF-8; a colon; a user and a password that are not empty).
 * Register the token as a secret before calling: the messages never include it anyway.
 *
 * @param from Who issued the token, for the message: "ECR" or "ECR Public".
 * @throws CredentialProviderError `CLOUD_AUTH_FAILED`
 */
export function decodeAuthorizationToken(token: string, from = "ECR"): RegistryLogin {
  const fail = (reason: string) =>
    new CredentialProviderError("CLOUD_AUTH_FAILED", `the authorization token from ${from} ${reason}`);
  if (typeof token !== "string" || token === "") throw fail("is empty");
  if (!BASE64.test(token)) throw fail("is not base64");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(token, "base64"));
  } catch {
    throw fail("does not decode to UTF-8 text");
  }
  const colon = text.indexOf(":");
  if (colon === -1) throw fail("does not decode to user:password (no colon)");
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (username === "" || password === "") throw fail("decodes to an empty user or password");
  return { username, password };
}

/**
 * The `cacheDuration` for a token that expires at `expiresAt`: half the remaining validity in
 * whole seconds, never negative; "0s" (do not cache) without an expiry or once it has passed.
 */
export function cacheDurationFor(expiresAt: Date | undefined, now: number = Date.now()): string {
  if (expiresAt === undefined) return "0s";
  return cacheDurationUntil(expiresAt, { now });
}
