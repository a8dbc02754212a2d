/**
 * The token bucket on a clock the test moves: a burst, the refill rate, the cap, and which of an
 * endpoint's names a limit is found under.
 */
import { describe, expect, it } from "vitest";
import { RateLimits } from "./rate-limits.ts";

const clock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

/** How many of `n` calls at the same instant are served. */
const served = (limits: RateLimits, n: number, ...ids: string[]) =>
  Array.from({ length: n }, () => limits.take(...ids)).filter((limit) => limit === undefined).length;

describe("RateLimits", () => {
  it("serves exactly the burst of calls that come at once, and throttles the rest", () => {
    const time = clock();
    const limits = new RateLimits(time.now);
    limits.set("ecr", { perSecond: 20, burst: 1, retryAfter: 2 });
    const results = Array.from({ length: 10 }, () => limits.take("ecr"));
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    expect(results.slice(1)).toEqual(Array(9).fill({ perSecond: 20, burst: 1, retryAfter: 2 }));
  });

  it("refills at perSecond, never beyond the burst", () => {
    const time = clock();
    const limits = new RateLimits(time.now);
    limits.set("ecr", { perSecond: 20, burst: 3 });
    expect(served(limits, 5, "ecr")).toBe(3);
    time.advance(49);
    expect(served(limits, 1, "ecr")).toBe(0);
    time.advance(1); // 50 ms: one token at 20 per second
    expect(served(limits, 2, "ecr")).toBe(1);
    time.advance(10_000);
    expect(served(limits, 10, "ecr")).toBe(3);
    // Fractions add up: a token every 2 s at 0.5 per second.
    limits.set("slow", { perSecond: 0.5, burst: 1 });
    expect(served(limits, 1, "slow")).toBe(1);
    time.advance(1_000);
    expect(served(limits, 1, "slow")).toBe(0);
    time.advance(1_000);
    expect(served(limits, 1, "slow")).toBe(1);
  });

  it("limits the first of an endpoint's names (alias, then id) that has a limit", () => {
    const limits = new RateLimits(clock().now);
    limits.set("registry.v2", { perSecond: 1, burst: 2 });
    limits.set("acr.challenge", { perSecond: 1, burst: 1 });
    expect(served(limits, 3, "acr.challenge", "registry.v2")).toBe(1);
    expect(served(limits, 3, "registry.v2")).toBe(2);
    expect(served(limits, 3, "other")).toBe(3);
    limits.clear("acr.challenge");
    expect(served(limits, 1, "acr.challenge", "registry.v2")).toBe(0); // registry.v2's is spent
    limits.clear();
    expect(served(limits, 3, "registry.v2")).toBe(3);
  });

  it("refuses a limit it cannot apply", () => {
    const limits = new RateLimits();
    expect(() => limits.set("x", { perSecond: 0, burst: 1 })).toThrow(/perSecond/);
    expect(() => limits.set("x", { perSecond: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => limits.set("x", { perSecond: 1, burst: 1, retryAfter: -1 })).toThrow(/retryAfter/);
  });
});
