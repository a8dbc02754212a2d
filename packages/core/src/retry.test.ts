import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCloudCallError } from "./errors.ts";
import {
  attemptTimeoutMs,
  DEADLINE_MARGIN_MS,
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_MS,
  MIN_ATTEMPT_MS,
  parseRetryAfter,
  planRetry,
} from "./retry.ts";
import { assertCredentialFresh, MIN_CREDENTIAL_VALIDITY_MS } from "./sdk-helpers.ts";

const T0 = 1_700_000_000_000;

describe("attemptTimeoutMs", () => {
  it("is the cap while the deadline is far", () => {
    expect(attemptTimeoutMs({ now: T0, deadline: T0 + 50_000 }, 10_000)).toBe(10_000);
  });
  it("shrinks to the time left after the margin", () => {
    expect(attemptTimeoutMs({ now: T0, deadline: T0 + 4_000 }, 10_000)).toBe(4_000 - DEADLINE_MARGIN_MS);
  });
  it("is undefined when no worthwhile attempt fits", () => {
    expect(attemptTimeoutMs({ now: T0, deadline: T0 + DEADLINE_MARGIN_MS + MIN_ATTEMPT_MS - 1 })).toBe(
      undefined,
    );
  });
});

describe("planRetry", () => {
  const base = { now: T0, deadline: T0 + 50_000, random: () => 1 };

  it("backs off exponentially up to the cap, with full jitter", () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((attempts) => planRetry({ ...base, attempts })?.delayMs);
    expect(ceilings).toEqual([200, 400, 800, 1600, 3200, 4000, 4000, 4000]);
    expect(planRetry({ ...base, attempts: 3, random: () => 0 })?.delayMs).toBe(0);
  });

  it("waits Retry-After (capped) plus jitter, so throttled execs do not return in lockstep", () => {
    expect(planRetry({ ...base, attempts: 1, retryAfterMs: 1_000, random: () => 0.5 })?.delayMs).toBe(1_100);
    expect(planRetry({ ...base, attempts: 1, retryAfterMs: 3_600_000, random: () => 0 })?.delayMs).toBe(
      MAX_RETRY_AFTER_MS,
    );
  });

  it("keeps going while the deadline allows, not for a fixed count", () => {
    expect(planRetry({ ...base, attempts: 40 })).toBeDefined();
  });

  it("stops when the wait would leave no worthwhile attempt before the deadline", () => {
    const deadline = T0 + MAX_BACKOFF_MS + DEADLINE_MARGIN_MS + MIN_ATTEMPT_MS - 1;
    expect(planRetry({ ...base, deadline, attempts: 10 })).toBeUndefined();
    expect(planRetry({ ...base, deadline, attempts: 10, random: () => 0 })).toBeDefined();
  });

  it("stops at maxAttempts", () => {
    expect(planRetry({ ...base, attempts: 3, maxAttempts: 3 })).toBeUndefined();
    expect(planRetry({ ...base, attempts: 2, maxAttempts: 3 })).toBeDefined();
  });

  it("property: a planned retry always leaves a worthwhile attempt before the deadline", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempts, left, retryAfterMs, r) => {
          const plan = planRetry({ attempts, now: T0, deadline: T0 + left, retryAfterMs, random: () => r });
          if (!plan) return;
          expect(plan.delayMs).toBeGreaterThanOrEqual(0);
          expect(T0 + plan.delayMs + DEADLINE_MARGIN_MS + MIN_ATTEMPT_MS).toBeLessThanOrEqual(T0 + left);
        },
      ),
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3", T0)).toBe(3_000);
    expect(parseRetryAfter(new Date(T0 + 5_000).toUTCString(), T0)).toBe(5_000);
    expect(parseRetryAfter(new Date(T0 - 5_000).toUTCString(), T0)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    for (const value of [undefined, "", "soon", "-1", "1.5"])
      expect(parseRetryAfter(value, T0)).toBeUndefined();
  });
});

describe("assertCredentialFresh", () => {
  it("accepts a credential valid for a minute or more", () => {
    expect(() => assertCredentialFresh(T0 + MIN_CREDENTIAL_VALIDITY_MS, "X", T0)).not.toThrow();
  });
  it.each([
    ["already expired", T0 - 1, /issued a credential that had already expired/],
    ["expiring now", T0, /already expired/],
    ["expiring within a minute", T0 + 59_000, /expires within a minute/],
    ["an invalid date", Number.NaN, /already expired \(at an unreadable time\)/],
  ])("refuses one %s, naming the endpoint and the clock", (_name, expiry, pattern) => {
    let error: unknown;
    try {
      assertCredentialFresh(expiry, "ECR GetAuthorizationToken (us-west-2)", T0);
    } catch (e) {
      error = e;
    }
    expect(isCloudCallError(error) && error.fault).toBe("expired");
    expect(isCloudCallError(error) && error.code).toBe("INVALID_RESPONSE");
    expect(String((error as Error).message)).toMatch(/^ECR GetAuthorizationToken \(us-west-2\) /);
    expect(String((error as Error).message)).toMatch(pattern);
    expect(String((error as Error).message)).toMatch(/check the node's clock/);
  });
});
