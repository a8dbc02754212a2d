/**
 * `kubelet-credential-sim doctor` on this machine with the built executables: each provider built
 * for this architecture and C library and answering --version, and a lookup through the real
 * example provider whose credential the emulated registry accepts. In the suite's linux-arm64 run
 * the bin dir holds its qemu-user wrapper scripts, which doctor reads as scripts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { E2E } from "./harness.ts";
import { binDir, emulated, startE2E } from "./harness.ts";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => {
  await e2e?.close();
});

const HOST = process.arch === "arm64" ? "arm64" : "amd64";
/** Under qemu-user the suite's bin dir holds scripts that run the arm64 build (harness.ts). */
const ARCH = emulated ? "arm64" : HOST;
const BUILT = emulated ? "a script \\(#!/bin/sh\\)" : `linux/${HOST}, glibc`;

describe("doctor with the built executables", () => {
  it("finds them built for this machine, answering --version, and a lookup the registry accepts", async () => {
    const config = e2e.config("example.yaml");
    const flags = `--image-credential-provider-config=${config} --image-credential-provider-bin-dir ${binDir}`;
    const run = await e2e.doctor([
      "--kubelet-flags",
      flags,
      "--kubelet-version",
      "1.37",
      "--image",
      "registry.example.com/team/app:1.0",
      "--verify",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.split("\n").filter(Boolean);
    expect(lines).toContain("✓ kubelet: kubelet, its flags from --kubelet-flags");
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^✓ provider example-credential-provider: ${binDir}/example-credential-provider: ${BUILT}; --version: example-credential-provider \\S+ \\([0-9a-f]{12}(-dirty)?, linux/${ARCH}\\)$`,
        ),
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^✓ lookup registry\.example\.com\/team\/app:1\.0: a credential for registry\.example\.com from example-credential-provider, cached by Registry for \S+; registry\.example\.com accepted example-credential-provider's credential for registry\.example\.com \(/,
      ),
    );
    expect(lines.at(-1)).toBe("doctor: healthy");
    e2e.expectNoLeaks(run);
  });
});
