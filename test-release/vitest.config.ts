import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "../vitest.shared.ts";
import { resetSummary, summaryLine } from "./src/summary.ts";

/** Prints the rehearsal's last line: what was published, installed and run. */
class SummaryReporter {
  onInit() {
    resetSummary();
  }
  onTestRunEnd() {
    process.stdout.write(`${summaryLine()}\n`);
  }
}

export default defineConfig({
  test: {
    ...sharedTestConfig,
    reporters: [...sharedTestConfig.reporters, new SummaryReporter()],
    include: ["src/**/*.test.ts"],
    // A whole release: a build of every package and executable, a registry, npm installs.
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
  },
});
