/**
 * The ACR refresh token is a JWT; its `exp` bounds how long the kubelet may cache it. The token is
 * never verified here (the registry does that), only read for its expiry.
 */
import { cacheDurationUntil } from "@kubelet-credential-provider/core";

/** The username that goes with an ACR refresh token. */
export const ACR_REFRESH_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

/** The longest cacheDuration ever answered, whatever `exp` says. */
export const MAX_CACHE_SECONDS = 6 * 3600;

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * The `exp` of a JWT as a Date, or undefined when the token is not a JWT with a numeric `exp`
 * (seconds since the epoch). Never throws.
 */
export function jwtExpiry(token: string): Date | undefined {
  if (typeof token !== "string" || token.length > 64 * 1024) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const payload = parts[1] as string;
  if (!BASE64URL.test(payload)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload.replace(/=+$/, ""), "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return undefined;
  const exp = (claims as { exp?: unknown }).exp;
  if (typeof exp !== "number" || !Number.isFinite(exp) || exp <= 0 || exp > 253402300799) return undefined;
  return new Date(exp * 1000);
}

/**
 * The `cacheDuration` for a refresh token that expires at `expiresAt`: half the remaining validity
 * in whole seconds, at most {@link MAX_CACHE_SECONDS}, never negative; "0s" (do not cache) without
 * an expiry or once it has passed.
 */
export function cacheDurationFor(expiresAt: Date | undefined, now: number = Date.now()): string {
  if (expiresAt === undefined) return "0s";
  return cacheDurationUntil(expiresAt, { now, maxSeconds: MAX_CACHE_SECONDS });
}
