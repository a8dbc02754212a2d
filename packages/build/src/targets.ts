/**
 * The platforms executables are built for: Linux on amd64 and arm64, glibc, and Windows on amd64.
 * Bun cross-compiles, so each can be built on either Linux architecture; running a binary of the
 * other architecture (its smoke test) needs qemu-user, and a Windows one is not run by the build
 * (this project's e2e suite runs them under Wine).
 *
 * glibc only: Bun's musl runtimes also need a musl build of libstdc++ on the node, which is not part
 * of a base musl system, and which nothing here can test with.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BuildError } from "./errors.ts";

/** A platform executables are built for. */
export interface Target {
  /** As Kubernetes and Go spell it (GOOS), and in release asset names ({@link assetName}). */
  os: "linux" | "windows";
  /** As Kubernetes and Go spell it (GOARCH), and in release asset names. */
  arch: "amd64" | "arm64";
  /** As Node and npm spell it (`process.arch`, `cpu`). */
  nodeArch: "x64" | "arm64";
  /** Bun's `--target`. */
  bunTarget: string;
  /** The npm package that holds the Bun runtime for it. */
  bunPackage: string;
}

/** Every platform a release is built for: linux/amd64, linux/arm64 and windows/amd64. */
export const RELEASE_TARGETS: readonly Target[] = [
  {
    os: "linux",
    arch: "amd64",
    nodeArch: "x64",
    bunTarget: "bun-linux-x64",
    bunPackage: "@oven/bun-linux-x64",
  },
  {
    os: "linux",
    arch: "arm64",
    nodeArch: "arm64",
    bunTarget: "bun-linux-arm64",
    bunPackage: "@oven/bun-linux-aarch64",
  },
  {
    os: "windows",
    arch: "amd64",
    nodeArch: "x64",
    bunTarget: "bun-windows-x64",
    bunPackage: "@oven/bun-windows-x64",
  },
];

/** `<os>/<arch>`, as `--version` and Kubernetes name a platform. */
export function platformOf(target: Target): string {
  return `${target.os}/${target.arch}`;
}

/** The file name of `name` built for `target`: a Windows executable's ends in `.exe`. */
export function executableFile(name: string, target: Target): string {
  return target.os === "windows" ? `${name}.exe` : name;
}

/** A release asset's file name: `<bin>-<os>-<arch>`, with `.exe` for Windows. */
export function assetName(bin: string, target: Target): string {
  return executableFile(`${bin}-${target.os}-${target.arch}`, target);
}

/** Whether binaries of `target` run on this machine as they are. */
export function isHost(target: Target): boolean {
  return target.os === "linux" && process.platform === "linux" && target.nodeArch === process.arch;
}

/** This machine's target: the one a build runs the compiler of, and the default to build for. */
export function hostTarget(): Target {
  const host = RELEASE_TARGETS.find(isHost);
  if (!host) {
    throw new BuildError(
      "UNSUPPORTED_HOST",
      `building needs Linux on x64 or arm64 (this is ${process.platform}/${process.arch}); on another machine, build in a Linux container`,
    );
  }
  return host;
}

/** qemu-user for each foreign target, with the Debian cross sysroot its glibc binaries need. */
const EMULATORS: Record<Target["nodeArch"], { command: string; sysroot: string; packages: string }> = {
  arm64: {
    command: "qemu-aarch64",
    sysroot: "/usr/aarch64-linux-gnu",
    packages: "qemu-user libc6-arm64-cross",
  },
  x64: { command: "qemu-x86_64", sysroot: "/usr/x86_64-linux-gnu", packages: "qemu-user libc6-amd64-cross" },
};

/**
 * The command prefix that runs a binary of `target` here: nothing for this machine's own, qemu-user
 * for the other architecture, null for Windows (not run by a build: under Wine it needs a set-up
 * of its own, which this project's e2e suite makes). Throws `RUNNER_UNAVAILABLE`, naming the
 * Debian packages, when qemu-user or the sysroot is missing.
 */
export function runnerFor(target: Target): string[] | null {
  if (isHost(target)) return [];
  if (target.os === "windows") return null;
  const emulator = EMULATORS[target.nodeArch];
  const found = spawnSync(emulator.command, ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0 || !existsSync(join(emulator.sysroot, "lib"))) {
    throw new BuildError(
      "RUNNER_UNAVAILABLE",
      `running linux/${target.arch} binaries needs ${emulator.command} and the ${emulator.sysroot} sysroot ` +
        `(Debian, Ubuntu: apt-get install ${emulator.packages})`,
    );
  }
  return [emulator.command, "-L", emulator.sysroot];
}
