import { defineConfig } from "vitest/config";

// `npx vitest` at the root runs every package's tests as one run (editors use this too);
// `pnpm test` runs them per package through turbo.
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*", "tools/*", "test-e2e"],
  },
});
