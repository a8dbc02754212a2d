/**
 * Faults on demand, per endpoint id. They queue: each applies to its next `times` calls in the
 * order given, so a test can script "503, then a reset, then the real answer"; a fault without
 * `times` applies to every call from then on.
 */

/**
 * What a `malformed` answer's 200 body is: `json` (the default) does not parse; `xml` is a
 * `<…Response>` document cut off mid-element; `html` is a captive portal's login page; `jsonString`
 * parses, to a string (a token answer encoded twice); `jsonWithSecret` is a token answer missing its
 * closing brace around a freshly issued ledger secret, for tests that check a provider never prints
 * the body of an answer it could not parse. Only `jsonWithSecret` holds a secret.
 */
export type MalformedFormat = "json" | "xml" | "html" | "jsonString" | "jsonWithSecret";

export type FaultSpec =
  /** Waits `ms` before the handler runs and its answer's status line is written. */
  (
    | { kind: "slowHeaders"; ms: number }
    /** The older name of `slowHeaders`: the same fault. */
    | { kind: "latency"; ms: number }
    /** The handler's answer with its headers at once and its body spread over `ms`, in `chunks` writes. */
    | { kind: "slowBody"; ms: number; chunks?: number }
    | { kind: "hang" }
    | {
        kind: "status";
        status: number;
        retryAfter?: number;
        body?: string;
        /** Of `body`; default text/plain. */
        contentType?: string;
        headers?: Record<string, string>;
      }
    /** The endpoint's own throttling answer (src/endpoints.ts): AWS's 400s, everyone else's 429. */
    | { kind: "throttle"; retryAfter?: number }
    | { kind: "reset" }
    | { kind: "malformed"; format?: MalformedFormat }
    | { kind: "truncated" }
    /** A 200 whose JSON-looking body is `bytes` long (default 64 MiB), streamed. */
    | { kind: "huge"; bytes?: number }
    | { kind: "expired" }
  ) & { times?: number };

export type FaultKind = FaultSpec["kind"];

export const malformedFormats: readonly MalformedFormat[] = [
  "json",
  "xml",
  "html",
  "jsonString",
  "jsonWithSecret",
];

/** 64 MiB: well over any size cap a provider should put on a token answer. */
export const defaultHugeBytes = 64 * 1024 * 1024;

interface _Queued {
  spec: FaultSpec;
  remaining: number | undefined;
}

export class Faults {
  readonly #queues = new Map<string, _Queued[]>();

  add(id: string, spec: FaultSpec): void {
    validateFault(id, spec);
    const queue = this.#queues.get(id) ?? [];
    queue.push({ spec: { ...spec }, remaining: spec.times });
    this.#queues.set(id, queue);
  }

  /**
   * The fault for this call, if any, and uses it up: of the first of `ids` (an endpoint's alias,
   * then its id) that has one queued.
   */
  take(...ids: string[]): FaultSpec | undefined {
    for (const id of ids) {
      const spec = this.#take(id);
      if (spec) return spec;
    }
    return undefined;
  }

  #take(id: string): FaultSpec | undefined {
    const queue = this.#queues.get(id);
    if (!queue) return undefined;
    while (queue[0]?.remaining === 0) queue.shift();
    const head = queue[0];
    if (!head) {
      this.#queues.delete(id);
      return undefined;
    }
    if (head.remaining !== undefined) head.remaining--;
    return head.spec;
  }

  clear(id?: string): void {
    if (id === undefined) this.#queues.clear();
    else this.#queues.delete(id);
  }
}

export function validateFault(id: string, spec: FaultSpec): void {
  const where = `fault for ${id}`;
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times > 0)) {
    throw new Error(`${where}: times must be a positive integer`);
  }
  switch (spec.kind) {
    case "latency":
    case "slowHeaders":
      if (!(Number.isFinite(spec.ms) && spec.ms >= 0))
        throw new Error(`${where}: ${spec.kind} needs ms >= 0`);
      return;
    case "slowBody":
      if (!(Number.isFinite(spec.ms) && spec.ms >= 0)) throw new Error(`${where}: slowBody needs ms >= 0`);
      if (spec.chunks !== undefined && !(Number.isInteger(spec.chunks) && spec.chunks > 0)) {
        throw new Error(`${where}: slowBody chunks must be a positive integer`);
      }
      return;
    case "status":
      if (!(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599)) {
        throw new Error(`${where}: status must be an HTTP error status (400-599)`);
      }
      _validateRetryAfter(where, spec.retryAfter);
      for (const [name, value] of Object.entries(spec.headers ?? {})) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || typeof value !== "string" || /[\r\n]/.test(value))
          throw new Error(`${where}: header ${JSON.stringify(name)} is not a valid header`);
      }
      return;
    case "throttle":
      _validateRetryAfter(where, spec.retryAfter);
      return;
    case "malformed":
      if (spec.format !== undefined && !malformedFormats.includes(spec.format)) {
        throw new Error(`${where}: malformed format is one of ${malformedFormats.join(", ")}`);
      }
      return;
    case "huge":
      // Room for the JSON frame around the filler; 1 TiB is past any test's patience.
      if (
        spec.bytes !== undefined &&
        !(Number.isInteger(spec.bytes) && spec.bytes >= 64 && spec.bytes <= 2 ** 40)
      )
        throw new Error(`${where}: huge bytes is a whole number from 64 to 2^40`);
      return;
    case "hang":
    case "reset":
    case "truncated":
    case "expired":
      return;
    default:
      throw new Error(`${where}: unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

function _validateRetryAfter(where: string, retryAfter: number | undefined): void {
  if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && retryAfter >= 0)) {
    throw new Error(`${where}: retryAfter is whole seconds >= 0`);
  }
}
