/**
 * The one retry policy of every outbound call: exponential backoff with full jitter, Retry-After
 * honoured (capped, and jittered so that a node booting with many images does not send its
 * execs back in lockstep), and attempts for as long as the time left to the run's deadline allows
 * another one, not a fixed count. Pure functions of the clock, so tests drive them with numbers.
 */

/** The first backoff step; doubled per retry up to {@link MAX_BACKOFF_MS}. */
export const BASE_BACKOFF_MS = 200;
export const MAX_BACKOFF_MS = 4_000;
/** The most a `Retry-After` may make us wait: one answer must not eat the deadline. */
export const MAX_RETRY_AFTER_MS = 10_000;
/** The longest one attempt may take, when the deadline leaves that much. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** An attempt shorter than this is not worth starting. */
export const MIN_ATTEMPT_MS = 1_000;
/**
 * Kept free before the deadline, so that the last failure is reported with its cause rather than
 * overtaken by the harness's "timed out", and so that a provider that needs one more call after
 * this one (a token after its credentials) still has a chance to fail clearly.
 */
export const DEADLINE_MARGIN_MS = 1_000;

export interface RetryClock {
  now: number;
  /** The run's deadline, in ms since the epoch. */
  deadline: number;
}

/**
 * How long the next attempt may take: its cap, cut to what the deadline leaves after the margin.
 * Undefined when no worthwhile attempt fits any more.
 */
export function attemptTimeoutMs(
  clock: RetryClock,
  capMs: number = DEFAULT_ATTEMPT_TIMEOUT_MS,
): number | undefined {
  const left = clock.deadline - clock.now - DEADLINE_MARGIN_MS;
  if (left < Math.min(MIN_ATTEMPT_MS, capMs)) return undefined;
  return Math.min(capMs, left);
}

export interface RetryDecision {
  /** Wait this long, then try again. */
  delayMs: number;
}

export interface RetryInput extends RetryClock {
  /** Attempts made so far (1 after the first). */
  attempts: number;
  /** The server's Retry-After, in ms, when it sent one. */
  retryAfterMs?: number | undefined;
  /** A cap on attempts set by the caller (for calls that must not be repeated often). */
  maxAttempts?: number | undefined;
  /** The per-attempt timeout cap, to know whether an attempt still fits after the wait. */
  attemptCapMs?: number | undefined;
  random: () => number;
}

/**
 * Whether to retry a retryable failure, and after how long; undefined when the attempts or the
 * time are used up.
 */
export function planRetry(input: RetryInput): RetryDecision | undefined {
  if (input.maxAttempts !== undefined && input.attempts >= input.maxAttempts) return undefined;
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(30, input.attempts - 1));
  const jitter = Math.round(ceiling * input.random());
  const delayMs =
    input.retryAfterMs === undefined ? jitter : Math.min(input.retryAfterMs, MAX_RETRY_AFTER_MS) + jitter;
  const fits = attemptTimeoutMs(
    { now: input.now + delayMs, deadline: input.deadline },
    input.attemptCapMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
  );
  return fits === undefined ? undefined : { delayMs };
}

/** Retry-After in seconds or as an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  // Delay-seconds, or an IMF-fixdate ("Sun, 06 Dec 2026 08:00:00 GMT"); nothing else.
  const ms = /^\d+$/.test(text)
    ? Number(text) * 1000
    : /^[A-Za-z]{3}, /.test(text)
      ? Date.parse(text) - now
      : Number.NaN;
  if (!Number.isFinite(ms)) return undefined;
  return Math.max(0, Math.round(ms));
}
