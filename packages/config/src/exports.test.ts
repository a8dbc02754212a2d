/**
 * The package's public surface, by name: adding one is a decision and removing one is a breaking
 * change, so either must show up here, in review (and in the API report, api/config.api.md).
 */
import { describe, expect, it } from "vitest";
import * as config from "./index.ts";

describe("@kubelet-credential-provider/config exports", () => {
  it("exactly the documented runtime names", () => {
    expect(Object.keys(config).sort()).toEqual([
      "assertNoConfigIssues",
      "configApiVersions",
      "formatConfigIssue",
      "formatConfigIssues",
      "loadConfig",
      "parseConfig",
      "validateConfig",
    ]);
  });
});
