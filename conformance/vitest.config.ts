import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "../vitest.shared.ts";
import { resetRecords, summaryLines } from "./src/summary.ts";

/** Prints the tier's last two lines: the kubelet cells and the upstream scenarios. */
class SummaryReporter {
  onInit() {
    resetRecords();
  }
  onTestRunEnd() {
    process.stdout.write(`${summaryLines().join("\n")}\n`);
  }
}

export default defineConfig({
  test: {
    ...sharedTestConfig,
    reporters: [...sharedTestConfig.reporters, new SummaryReporter()],
    include: ["src/**/*.test.ts"],
    // A cold Go cache builds the kubelet of five minors and three plugins: minutes, not seconds.
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
