/**
 * Random failures per endpoint id: a fraction of calls fails with a 5xx, a reset or a throttle,
 * as a cloud on a bad day does. Seeded, the sequence of outcomes (in arrival order) is the same on
 * every run, so a test that found a bug can replay it.
 */
import type { FaultSpec } from "./faults.ts";

export type FlakyKind = "status500" | "status503" | "reset" | "throttle";

export interface FlakySpec {
  /** The fraction of calls that fail, 0 to 1. */
  rate: number;
  /** What a failed call gets, picked at random among these; default `["status503", "reset"]`. */
  kinds?: readonly FlakyKind[];
  /** A 32-bit integer: the same seed, the same outcomes; default unseeded (Math.random). */
  seed?: number;
}

const _kinds: Record<FlakyKind, FaultSpec> = {
  status500: { kind: "status", status: 500 },
  status503: { kind: "status", status: 503 },
  reset: { kind: "reset" },
  throttle: { kind: "throttle" },
};

interface _Flake {
  rate: number;
  kinds: readonly FlakyKind[];
  random: () => number;
}

export class Flaky {
  readonly #flakes = new Map<string, _Flake>();

  set(id: string, spec: FlakySpec): void {
    const where = `flaky for ${id}`;
    if (!(Number.isFinite(spec.rate) && spec.rate >= 0 && spec.rate <= 1))
      throw new Error(`${where}: rate must be from 0 to 1`);
    const kinds = spec.kinds ?? ["status503", "reset"];
    if (kinds.length === 0 || kinds.some((kind) => !Object.hasOwn(_kinds, kind)))
      throw new Error(`${where}: kinds are some of ${Object.keys(_kinds).join(", ")}`);
    if (spec.seed !== undefined && !Number.isInteger(spec.seed))
      throw new Error(`${where}: seed must be an integer`);
    this.#flakes.set(id, {
      rate: spec.rate,
      kinds: [...kinds],
      random: spec.seed === undefined ? Math.random : _mulberry32(spec.seed),
    });
  }

  clear(id?: string): void {
    if (id === undefined) this.#flakes.clear();
    else this.#flakes.delete(id);
  }

  /** The fault this call gets, if it is one that fails; of the first of `ids` that is flaky. */
  take(...ids: string[]): FaultSpec | undefined {
    const flake = ids.map((id) => this.#flakes.get(id)).find((f) => f !== undefined);
    if (!flake || flake.random() >= flake.rate) return undefined;
    const kind = flake.kinds[Math.floor(flake.random() * flake.kinds.length)] as FlakyKind;
    return _kinds[kind];
  }
}

// A small, well-known 32-bit PRNG: enough for picking failures, and the same in every Node.
function _mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
