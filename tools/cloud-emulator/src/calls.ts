/**
 * Every call of an endpoint, counted and kept by id, faulted or not: tests assert how often a
 * provider called (its cache and retries) and what it sent.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { FaultKind } from "./faults.ts";

export interface RecordedCall {
  id: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The fault applied to this call, if one was. */
  fault?: FaultKind;
}

export class CallLog {
  readonly #calls: RecordedCall[] = [];
  readonly #counts = new Map<string, number>();

  record(call: RecordedCall): void {
    this.#calls.push(call);
    this.#counts.set(call.id, (this.#counts.get(call.id) ?? 0) + 1);
  }

  /** Of one endpoint, or of all. */
  count(id?: string): number {
    return id === undefined ? this.#calls.length : (this.#counts.get(id) ?? 0);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  calls(id?: string): RecordedCall[] {
    return this.#calls.filter((call) => id === undefined || call.id === id);
  }
}
