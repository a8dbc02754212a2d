/**
 * The release smoke test (smoke.ts, which release.yml runs on a Windows runner for the
 * windows-amd64 executables), here on this machine's linux-amd64 release executables: it passes on
 * them, and names each check a wrong executable fails.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Target } from "../../../packages/build/src/targets.ts";
import { releaseTarget, smokeTest } from "./smoke.ts";

const releaseDir = resolve(import.meta.dirname, "../../../dist/release");
const LINUX_AMD64 = releaseTarget("linux-amd64") as Target;
const scratch = mkdtempSync(join(tmpdir(), "kcp-smoke-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(process.arch !== "x64")("smoke test of release executables", () => {
  it("passes on this machine's linux-amd64 release executables", () => {
    if (!existsSync(join(releaseDir, "SHA256SUMS")))
      throw new Error("dist/release is missing: run pnpm build:release");
    expect(smokeTest(releaseDir, LINUX_AMD64)).toEqual({ checks: 9, failures: [] });
  });

  it("names what a wrong executable gets wrong", () => {
    for (const bin of ["ecr-credential-provider", "acr-credential-provider"]) {
      copyFileSync(join(releaseDir, `${bin}-linux-amd64`), join(scratch, `${bin}-linux-amd64`));
    }
    // One that answers everything, with a version of another platform.
    const liar = join(scratch, "auth-provider-gcp-linux-amd64");
    writeFileSync(liar, '#!/bin/sh\necho "auth-provider-gcp 9.9.9 (000000000000, windows/amd64)"\n');
    chmodSync(liar, 0o755);
    const result = smokeTest(scratch, LINUX_AMD64);
    expect(result.checks).toBe(9);
    expect(result.failures).toEqual([
      expect.stringMatching(/^auth-provider-gcp --version: exit 0, stdout "auth-provider-gcp 9\.9\.9 /),
      expect.stringMatching(
        /^auth-provider-gcp with a refused host: exit 0, stdout "auth-provider-gcp 9\.9\.9/,
      ),
      expect.stringMatching(/^auth-provider-gcp with a request that is not JSON: exit 0/),
    ]);
  });
});
