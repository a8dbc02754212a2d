/**
 * A process that starts an emulator, uses it (a tunnel, a hung request) and closes it then exits
 * by itself: close() leaves no handle that would keep a test run or the demo alive.
 */
import { describe, expect, it } from "vitest";
import { runNode, testdata } from "./testdata/helpers.ts";

describe("an emulator's process after close()", () => {
  it("exits on its own, the hung request ended and nothing left active", async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runNode(testdata("lifecycle.ts"), [], {}, 5_000);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ hung: "ECONNRESET", resources: [] });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
