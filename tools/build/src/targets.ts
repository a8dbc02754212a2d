/**
 * The platforms release binaries are built for, and how to build for one that is not the build
 * machine's: the Node binary comes from the npm registry's per-platform package (the same version
 * as the Node running the build), and runs under qemu-user, because the SEA blob (its snapshot or
 * code cache) must be made by the very V8 that will load it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface Target {
  /** As in release asset names (Kubernetes' and Go's spelling). */
  arch: "amd64" | "arm64";
  /** As Node and npm spell it. */
  nodeArch: "x64" | "arm64";
}

export const RELEASE_TARGETS: readonly Target[] = [
  { arch: "amd64", nodeArch: "x64" },
  { arch: "arm64", nodeArch: "arm64" },
];

/** qemu-user for each foreign target, with the Debian cross sysroot Node's libc/libstdc++ need. */
const EMULATORS: Record<
  Target["nodeArch"],
  { command: string; sysroot: string; strip: string; packages: string }
> = {
  arm64: {
    command: "qemu-aarch64",
    sysroot: "/usr/aarch64-linux-gnu",
    strip: "aarch64-linux-gnu-strip",
    packages: "qemu-user libc6-arm64-cross libstdc++6-arm64-cross binutils-aarch64-linux-gnu",
  },
  x64: {
    command: "qemu-x86_64",
    sysroot: "/usr/x86_64-linux-gnu",
    strip: "x86_64-linux-gnu-strip",
    packages: "qemu-user libc6-amd64-cross libstdc++6-amd64-cross binutils-x86-64-linux-gnu",
  },
};

export const isHost = (target: Target) => target.nodeArch === process.arch;

/** The command prefix that runs a binary of `target` here: nothing for the host's own. */
export function runnerFor(target: Target): string[] {
  if (isHost(target)) return [];
  const emulator = EMULATORS[target.nodeArch];
  const found = spawnSync(emulator.command, ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0 || !existsSync(join(emulator.sysroot, "lib"))) {
    throw new Error(
      `building linux-${target.arch} binaries needs ${emulator.command} and the ${emulator.sysroot} sysroot: ` +
        `apt-get install ${emulator.packages}`,
    );
  }
  return [emulator.command, "-L", emulator.sysroot];
}

/** The strip for `target`'s binaries (a missing one only costs size: the build says so). */
export const stripFor = (target: Target) => (isHost(target) ? "strip" : EMULATORS[target.nodeArch].strip);

/**
 * The Node binary for `target`, at the version of the Node running this: the host's own, or the
 * `node-linux-<arch>` package from the npm registry (npm checks its integrity), cached in `cacheDir`.
 */
export function nodeBinaryFor(target: Target, cacheDir: string): string {
  if (isHost(target)) return process.execPath;
  const version = process.versions.node;
  const name = `node-linux-${target.nodeArch}`;
  const dir = join(cacheDir, `${name}-${version}`);
  const binary = join(dir, "bin", "node");
  if (existsSync(binary)) return binary;

  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const pack = spawnSync("npm", ["pack", `${name}@${version}`, "--pack-destination", staging, "--silent"], {
    encoding: "utf8",
  });
  const tarball = readdirSync(staging).find((file) => file.endsWith(".tgz"));
  if (pack.status !== 0 || !tarball) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`cannot fetch ${name}@${version} from the npm registry: ${pack.stderr.trim()}`);
  }
  const untar = spawnSync("tar", ["xzf", join(staging, tarball), "-C", staging, "--strip-components=1"], {
    encoding: "utf8",
  });
  if (untar.status !== 0 || !existsSync(join(staging, "bin", "node"))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`cannot unpack ${name}@${version}: ${untar.stderr.trim() || "no bin/node inside"}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return binary;
}
