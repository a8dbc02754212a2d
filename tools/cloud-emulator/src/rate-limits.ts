/**
 * Rate limits per endpoint id: a token bucket each, as the clouds' front doors throttle. A call
 * beyond the budget gets the endpoint's own throttling answer (the `throttle` fault), never
 * reaching the endpoint, so a test can count how many calls a provider's backoff let through.
 */

export interface RateLimitSpec {
  /** Tokens added per second, fractions allowed. */
  perSecond: number;
  /** The bucket's size, and its fill at the start: how many calls may come at once. */
  burst: number;
  /** Whole seconds, sent as Retry-After with each throttled answer; default none. */
  retryAfter?: number;
}

interface _Bucket {
  spec: RateLimitSpec;
  tokens: number;
  /** When `tokens` was last brought up to date, in the clock's ms. */
  at: number;
}

export class RateLimits {
  readonly #buckets = new Map<string, _Bucket>();
  readonly #now: () => number;

  /** `now` in ms, monotonic; a test may pass its own clock. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  set(id: string, spec: RateLimitSpec): void {
    const where = `rate limit for ${id}`;
    if (!(Number.isFinite(spec.perSecond) && spec.perSecond > 0))
      throw new Error(`${where}: perSecond must be > 0`);
    if (!(Number.isInteger(spec.burst) && spec.burst >= 1))
      throw new Error(`${where}: burst must be a positive integer`);
    if (spec.retryAfter !== undefined && !(Number.isInteger(spec.retryAfter) && spec.retryAfter >= 0))
      throw new Error(`${where}: retryAfter is whole seconds >= 0`);
    this.#buckets.set(id, { spec: { ...spec }, tokens: spec.burst, at: this.#now() });
  }

  clear(id?: string): void {
    if (id === undefined) this.#buckets.clear();
    else this.#buckets.delete(id);
  }

  /**
   * Takes a token for this call, from the bucket of the first of `ids` (alias, then id) that has
   * one. `undefined`: served (or no limit); else the limit that throttled it.
   */
  take(...ids: string[]): RateLimitSpec | undefined {
    const bucket = ids.map((id) => this.#buckets.get(id)).find((b) => b !== undefined);
    if (!bucket) return undefined;
    const now = this.#now();
    bucket.tokens = Math.min(
      bucket.spec.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * bucket.spec.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return bucket.spec;
  }
}
