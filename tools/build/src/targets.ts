/**
 * The platforms release binaries are built for. Bun cross-compiles: each target's runtime is the
 * npm platform package pinned in tools/build's devDependencies (pnpm installs both, whatever the
 * machine, with a warning about the one that does not match it). Only running a foreign binary,
 * for the smoke test and the tests, needs qemu-user.
 *
 * glibc only: Bun's musl runtimes also need a musl build of libstdc++ (not part of alpine's base
 * image, and not available on this project's machines to test with), so they are not shipped.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface Target {
  /** As in release asset names (Kubernetes' and Go's spelling). */
  arch: "amd64" | "arm64";
  /** As Node and npm spell it. */
  nodeArch: "x64" | "arm64";
  /** Bun's `--target`. */
  bunTarget: string;
  /** The npm package holding the Bun runtime for it. */
  bunPackage: string;
}

export const RELEASE_TARGETS: readonly Target[] = [
  { arch: "amd64", nodeArch: "x64", bunTarget: "bun-linux-x64", bunPackage: "@oven/bun-linux-x64" },
  { arch: "arm64", nodeArch: "arm64", bunTarget: "bun-linux-arm64", bunPackage: "@oven/bun-linux-aarch64" },
];

export const isHost = (target: Target) => target.nodeArch === process.arch;

export const HOST_TARGET: Target = (() => {
  const host = RELEASE_TARGETS.find(isHost);
  if (!host) throw new Error(`no release target for this machine's architecture (${process.arch})`);
  return host;
})();

/** qemu-user for each foreign target, with the Debian cross sysroot the glibc binaries need. */
const EMULATORS: Record<Target["nodeArch"], { command: string; sysroot: string; packages: string }> = {
  arm64: {
    command: "qemu-aarch64",
    sysroot: "/usr/aarch64-linux-gnu",
    packages: "qemu-user libc6-arm64-cross",
  },
  x64: { command: "qemu-x86_64", sysroot: "/usr/x86_64-linux-gnu", packages: "qemu-user libc6-amd64-cross" },
};

/** The command prefix that runs a binary of `target` here: nothing for the host's own. */
export function runnerFor(target: Target): string[] {
  if (isHost(target)) return [];
  const emulator = EMULATORS[target.nodeArch];
  const found = spawnSync(emulator.command, ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0 || !existsSync(join(emulator.sysroot, "lib"))) {
    throw new Error(
      `running linux-${target.arch} binaries needs ${emulator.command} and the ${emulator.sysroot} sysroot: ` +
        `apt-get install ${emulator.packages}`,
    );
  }
  return [emulator.command, "-L", emulator.sysroot];
}

/** The Bun runtime for `target`, from its npm package. */
export function bunBinaryFor(target: Target): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${target.bunPackage}/package.json`);
  } catch {
    throw new Error(`${target.bunPackage} is not installed: run pnpm install`);
  }
  const binary = join(dirname(manifest), "bin", "bun");
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`${binary} is missing or not executable: reinstall with pnpm install --force`);
  }
  return binary;
}
