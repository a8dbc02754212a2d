import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { sharedTestConfig } from "../vitest.shared.ts";

/**
 * The suite runs on this machine's executables, and with KCP_E2E_ARM64=1 (which .ci/run sets)
 * also on the linux-arm64 ones under qemu-user (src/harness.ts): about 8 minutes more on a 2-core
 * machine, so a developer's `pnpm test` leaves it out unless asked, and CI always runs it. The
 * release binaries' own test covers both architectures itself, and the demo is this machine's only.
 */
const qemu =
  spawnSync("qemu-aarch64", ["--version"], { stdio: "ignore" }).status === 0 &&
  existsSync("/usr/aarch64-linux-gnu/lib");
// On an arm64 machine the native run is the arm64 one.
const arm64 = process.arch === "x64" && process.env.KCP_E2E_ARM64 === "1";
if (arm64 && !qemu) {
  throw new Error("KCP_E2E_ARM64=1 needs qemu-user and the arm64 sysroot: see .ci/install-test-deps");
}
if (!arm64 && process.arch === "x64") {
  console.error(
    "test-e2e: the linux-arm64 run of the suite is off (KCP_E2E_ARM64=1 runs it under qemu-user)",
  );
}

export default defineConfig({
  test: {
    ...sharedTestConfig,
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "native" } },
      ...(arm64
        ? [
            {
              extends: true,
              test: {
                name: "linux-arm64 (qemu-user)",
                env: { KCP_E2E_ARCH: "arm64" },
                exclude: ["src/release-binaries.test.ts", "src/demo.test.ts", "src/windows.test.ts"],
                testTimeout: 180_000,
                hookTimeout: 60_000,
              },
            },
          ]
        : []),
    ],
  },
});
