import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "../../vitest.shared.ts";

export default defineConfig({
  test: {
    ...sharedTestConfig,
    include: ["src/**/*.test.ts"],
    // Most tests run the CLI as processes, several per test: on a loaded 2-core CI machine five of
    // them can take the default 5 s.
    testTimeout: 30_000,
  },
});
