/** Small helpers that every provider needs and would otherwise each get slightly wrong. */
import { formatDuration } from "./duration.ts";
import { CloudCallError } from "./errors.ts";

/** Options of `cacheDurationUntil`: the share of the remaining validity, a cap, and the clock (tests). */
export interface CacheDurationOptions {
  /** Share of the remaining validity the kubelet may cache for. Default 0.5, as the ECR plugin does. */
  fraction?: number;
  /** Upper bound in seconds. */
  maxSeconds?: number;
  /** The time to count from, in ms since the epoch; default now. */
  now?: number;
}

/**
 * The `cacheDuration` for a credential that expires at `expiresAt`: a share of the remaining
 * validity in whole seconds, so the kubelet drops it well before the registry would refuse it.
 * Never negative; an expired credential gives "0s" (do not cache).
 */
export function cacheDurationUntil(expiresAt: Date | number, options: CacheDurationOptions = {}): string {
  const { fraction = 0.5, maxSeconds = Number.POSITIVE_INFINITY, now = Date.now() } = options;
  const expiry = typeof expiresAt === "number" ? expiresAt : expiresAt.getTime();
  const remaining = (expiry - now) / 1000;
  if (!Number.isFinite(remaining) || remaining <= 0) return "0s";
  return formatDuration(Math.max(0, Math.min(maxSeconds, Math.floor(remaining * fraction))));
}

/** A credential valid for less than this is not worth answering: the pull would outlive it. */
export const MIN_CREDENTIAL_VALIDITY_MS = 60_000;

/**
 * Refuses a credential that has expired or expires within a minute: answering it would cache a
 * credential the registry refuses. Usually the node's clock is wrong, or the cloud misbehaves.
 *
 * @param endpoint the endpoint that issued it, in words (`ECR GetAuthorizationToken (us-west-2)`)
 * @throws CloudCallError with fault `expired` (`INVALID_RESPONSE`)
 */
export function assertCredentialFresh(
  expiresAt: Date | number,
  endpoint: string,
  now: number = Date.now(),
): void {
  const expiry = typeof expiresAt === "number" ? expiresAt : expiresAt.getTime();
  const left = expiry - now;
  if (Number.isFinite(left) && left >= MIN_CREDENTIAL_VALIDITY_MS) return;
  const when = Number.isFinite(expiry) ? new Date(expiry).toISOString() : "an unreadable time";
  throw new CloudCallError({
    endpoint,
    fault: "expired",
    detail:
      left <= 0 || !Number.isFinite(left)
        ? `issued a credential that had already expired (at ${when}); check the node's clock`
        : `issued a credential that expires within a minute (at ${when}); check the node's clock`,
  });
}
