/**
 * Random failures: the rate holds, the kinds are those asked for, and a seed replays the same
 * sequence of outcomes.
 */
import { describe, expect, it } from "vitest";
import { Flaky } from "./flaky.ts";

const outcomes = (flaky: Flaky, n: number, id = "x") =>
  Array.from({ length: n }, () => {
    const fault = flaky.take(id);
    if (!fault) return "ok";
    return fault.kind === "status" ? `status${fault.status}` : fault.kind;
  });

describe("Flaky", () => {
  it("replays the same outcomes for the same seed, and others for another", () => {
    const first = new Flaky();
    first.set("x", { rate: 0.3, seed: 42 });
    const second = new Flaky();
    second.set("x", { rate: 0.3, seed: 42 });
    const a = outcomes(first, 200);
    expect(outcomes(second, 200)).toEqual(a);
    const other = new Flaky();
    other.set("x", { rate: 0.3, seed: 43 });
    expect(outcomes(other, 200)).not.toEqual(a);
    // The default kinds, both of them, and about the rate asked for.
    expect(new Set(a)).toEqual(new Set(["ok", "status503", "reset"]));
    const failed = a.filter((o) => o !== "ok").length;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
    // Setting it again starts the sequence over.
    first.set("x", { rate: 0.3, seed: 42 });
    expect(outcomes(first, 200)).toEqual(a);
  });

  it("never fails at rate 0, always at rate 1, with only the kinds given", () => {
    const flaky = new Flaky();
    flaky.set("x", { rate: 0 });
    expect(outcomes(flaky, 50)).toEqual(Array(50).fill("ok"));
    flaky.set("x", { rate: 1, kinds: ["status500", "throttle"], seed: 1 });
    expect(new Set(outcomes(flaky, 50))).toEqual(new Set(["status500", "throttle"]));
    expect(outcomes(flaky, 5, "y")).toEqual(Array(5).fill("ok"));
    flaky.clear("x");
    expect(outcomes(flaky, 5)).toEqual(Array(5).fill("ok"));
  });

  it("refuses a setting it cannot apply", () => {
    const flaky = new Flaky();
    expect(() => flaky.set("x", { rate: 1.5 })).toThrow(/rate/);
    expect(() => flaky.set("x", { rate: 0.5, kinds: [] })).toThrow(/kinds/);
    expect(() => flaky.set("x", { rate: 0.5, kinds: ["hang" as never] })).toThrow(/kinds/);
    expect(() => flaky.set("x", { rate: 0.5, seed: 1.5 })).toThrow(/seed/);
  });
});
