/**
 * @kubelet-credential-provider/build: turns a credential provider package into standalone
 * executables for Linux (amd64 and arm64) and Windows (amd64) with Bun's compiler, exactly as this project builds its own
 * providers. The command is `kcp-build` ({@link buildPackage}); the parts are for build tools that
 * lay out their own outputs.
 *
 * ```ts
 * import { buildPackage } from "@kubelet-credential-provider/build";
 * buildPackage({ packageDir: ".", release: true, log: console.error });
 * // dist/release/<bin>-linux-amd64, <bin>-linux-arm64, <bin>-windows-amd64.exe, SHA256SUMS
 * ```
 */

export type { BuildPackageOptions, BuiltExecutable } from "./build-package.ts";
export { buildPackage } from "./build-package.ts";
export type { BuildOptions, BuildResult } from "./bun.ts";
export { BUN_FLAGS, buildExecutable } from "./bun.ts";
export { buildCommit } from "./commit.ts";
export type { BuildErrorCode } from "./errors.ts";
export { BuildError } from "./errors.ts";
export type { Executable, PackageManifest } from "./executables.ts";
export { packageExecutables, readManifest } from "./executables.ts";
export type { RuntimeOptions } from "./runtime.ts";
export { BUN_VERSION, bunRuntime } from "./runtime.ts";
export type { Target } from "./targets.ts";
export {
  assetName,
  executableFile,
  hostTarget,
  isHost,
  platformOf,
  RELEASE_TARGETS,
  runnerFor,
} from "./targets.ts";
