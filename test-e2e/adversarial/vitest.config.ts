import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.ts";
import { resetRecords, summaryLine } from "./src/summary.ts";

/** Prints the suite's last line: what it ran (cases, faults, bursts) and the result. */
class SummaryReporter {
  onInit() {
    resetRecords();
  }
  onTestRunEnd(
    modules: ReadonlyArray<{ children: { allTests(): Iterable<{ result(): { state: string } }> } }>,
  ) {
    let passed = 0;
    let failed = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
      }
    }
    process.stdout.write(`${summaryLine(passed, failed)}\n`);
  }
}

export default defineConfig({
  test: {
    ...sharedTestConfig,
    reporters: [...sharedTestConfig.reporters, new SummaryReporter()],
    include: ["src/**/*.test.ts"],
    // Each file drives real processes against its own emulator; bursts measure a machine at load,
    // so files run one at a time.
    fileParallelism: false,
    // The fault matrix runs its endpoints side by side, each against its own emulator.
    maxConcurrency: 14,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
