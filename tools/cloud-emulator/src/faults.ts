/**
 * Faults on demand, per endpoint id. They queue: each applies to its next `times` calls in the
 * order given, so a test can script "503, then a reset, then the real answer"; a fault without
 * `times` applies to every call from then on.
 */

export type FaultSpec = (
  | { kind: "latency"; ms: number }
  | { kind: "hang" }
  | { kind: "status"; status: number; retryAfter?: number; body?: string }
  | { kind: "reset" }
  | { kind: "malformed" }
  | { kind: "truncated" }
  | { kind: "expired" }
) & { times?: number };

export type FaultKind = FaultSpec["kind"];

interface _Queued {
  spec: FaultSpec;
  remaining: number | undefined;
}

export class Faults {
  readonly #queues = new Map<string, _Queued[]>();

  add(id: string, spec: FaultSpec): void {
    _validate(id, spec);
    const queue = this.#queues.get(id) ?? [];
    queue.push({ spec: { ...spec }, remaining: spec.times });
    this.#queues.set(id, queue);
  }

  /** The fault for this call of `id`, if any, and uses it up. */
  take(id: string): FaultSpec | undefined {
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

function _validate(id: string, spec: FaultSpec): void {
  const where = `fault for ${id}`;
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times > 0)) {
    throw new Error(`${where}: times must be a positive integer`);
  }
  switch (spec.kind) {
    case "latency":
      if (!(Number.isFinite(spec.ms) && spec.ms >= 0)) throw new Error(`${where}: latency needs ms >= 0`);
      return;
    case "status":
      if (!(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599)) {
        throw new Error(`${where}: status must be an HTTP error status (400-599)`);
      }
      if (spec.retryAfter !== undefined && !(Number.isInteger(spec.retryAfter) && spec.retryAfter >= 0)) {
        throw new Error(`${where}: retryAfter is whole seconds >= 0`);
      }
      return;
    case "hang":
    case "reset":
    case "malformed":
    case "truncated":
    case "expired":
      return;
    default:
      throw new Error(`${where}: unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}
