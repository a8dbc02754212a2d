/**
 * Every call of an endpoint, counted and kept by id, faulted or not: tests assert how often a
 * provider called (its cache and retries) and what it sent.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { FaultKind } from "./faults.ts";

/** What applied the fault: a queued `fault()`, a `rateLimit()` or a `flaky()` endpoint. */
export type FaultSource = "fault" | "rateLimit" | "flaky";

export interface RecordedCall {
  id: string;
  /** The route's narrower id, when it has one (`acr.challenge` for ACR's `registry.v2`). */
  alias?: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The fault applied to this call, if one was: `throttle` for a call over its rate limit. */
  fault?: FaultKind;
  faultBy?: FaultSource;
  /** Bytes of the answer's body written so far, for the streaming faults (`huge`, `slowBody`). */
  sent?: number;
}

export class CallLog {
  readonly #calls: RecordedCall[] = [];
  readonly #counts = new Map<string, number>();

  record(call: RecordedCall): void {
    this.#calls.push(call);
    for (const name of call.alias === undefined ? [call.id] : [call.id, call.alias])
      this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  /** Of one endpoint (by id or alias), or of all. */
  count(id?: string): number {
    return id === undefined ? this.#calls.length : (this.#counts.get(id) ?? 0);
  }

  /** By id, and by alias for the calls that have one: a call with an alias counts under both. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  calls(id?: string): RecordedCall[] {
    return this.#calls.filter((call) => id === undefined || call.id === id || call.alias === id);
  }
}
