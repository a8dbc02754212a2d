/**
 * Settings every package's vitest config shares. The JSON report feeds the one-line total that
 * `pnpm test` ends with (tools/build/src/test-summary.ts).
 */
export const sharedTestConfig = {
  reporters: ["default", "json"],
  outputFile: { json: ".vitest-results.json" },
};
