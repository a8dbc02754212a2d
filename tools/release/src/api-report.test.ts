/**
 * The checked-in API reports (api/*.api.md) are what the public packages export: a changed export
 * fails here until its report is regenerated (`UPDATE_API_REPORT=1 pnpm test`) and the change is
 * in the diff. And the check can fail: a report that lacks an export is caught.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { API_REPORT_DIR, apiReport, entryPointsOf } from "./api-report.ts";
import { listWorkspacePackages } from "./pack.ts";

const update = process.env.UPDATE_API_REPORT === "1";
const publicPackages = (await listWorkspacePackages()).filter((pkg) => !pkg.private);
const entries = publicPackages.flatMap((pkg) => entryPointsOf(pkg).map((entry) => ({ pkg, entry })));

describe("API reports", { timeout: 120_000 }, () => {
  it("cover every entry point of every public package", () => {
    expect(entries.map(({ entry }) => entry.importPath).sort()).toEqual([
      "@kubelet-credential-provider/acr",
      "@kubelet-credential-provider/build",
      "@kubelet-credential-provider/config",
      "@kubelet-credential-provider/core",
      "@kubelet-credential-provider/core/go",
      "@kubelet-credential-provider/ecr",
      "@kubelet-credential-provider/gcp",
    ]);
  });

  it.each(entries.map(({ pkg, entry }) => [entry.importPath, pkg, entry] as const))(
    "%s matches api/ (UPDATE_API_REPORT=1 rewrites it)",
    (importPath, pkg, entry) => {
      const result = apiReport(pkg, entry, update);
      expect(result.problems, `API Extractor on ${importPath}`).toEqual([]);
      if (!update) {
        expect(
          result.changed,
          `${importPath} exports something other than ${result.reportFile} says: run UPDATE_API_REPORT=1 pnpm test and review the report's diff`,
        ).toBe(false);
      }
    },
  );

  it("fails when a report lacks an export", () => {
    const found = entries.find(({ entry }) => entry.importPath === "@kubelet-credential-provider/core/go");
    if (!found) throw new Error("no core/go entry point");
    const { pkg, entry } = found;
    const reportFile = join(API_REPORT_DIR, `${entry.reportName}.api.md`);
    const saved = join(mkdtempSync(join(tmpdir(), "kcp-api-saved-")), "report.md");
    copyFileSync(reportFile, saved);
    afterAll(() => rmSync(saved, { force: true }));
    try {
      const report = readFileSync(reportFile, "utf8");
      expect(report).toContain("byteSorted");
      writeFileSync(reportFile, report.replace(/^.*byteSorted.*$/m, ""));
      expect(apiReport(pkg, entry, false).changed).toBe(true);
    } finally {
      copyFileSync(saved, reportFile);
    }
  });
});
