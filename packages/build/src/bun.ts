/**
 * One standalone executable: Bun's compiler bundles the package's compiled CLI (`dist/cli.js`) and
 * everything it imports into a copy of the Bun runtime for the target, as precompiled bytecode (the
 * start-up cost of a cache miss: parsing and compiling the bundle, is paid at build time).
 *
 * The executable does not read a `.env` or a `bunfig.toml` from its working directory (a bunfig
 * `preload` would run code as root on every node); NODE_OPTIONS means nothing to Bun. Every result
 * that can run here is smoke-tested before it replaces the last one.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { BuildError } from "./errors.ts";
import type { Executable } from "./executables.ts";
import { executableFile, platformOf, type Target } from "./targets.ts";

/**
 * The compiler's flags, besides the target, the runtime and the file names. Chosen by `pnpm bench`
 * (docs/performance.md): bytecode (without it a provider starts 2-3x slower), ES modules split into
 * chunks so that a lazily imported SDK is not even loaded before a request needs it, and a JIT
 * that tiers up 100x later (a provider runs for tens of milliseconds: JIT-compiling costs more
 * than it saves). The version and commit `--version` prints are defined in the bundle as
 * `__KCP_BUILD_VERSION__` and `__KCP_BUILD_COMMIT__` (core's `packageVersion` reads them), since the
 * executable has no package.json.
 */
export const BUN_FLAGS: readonly string[] = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--splitting",
  "--compile-jit-policy=100",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
];

/** How {@link buildExecutable} builds one executable. */
export interface BuildOptions {
  /** The executable to write. */
  outFile: string;
  /** The commit `--version` names ({@link buildCommit}). */
  commit: string;
  /** Where builds for `target` keep scratch files and up-to-date stamps (a subdirectory per executable). */
  workDir: string;
  /** The platform to build for. */
  target: Target;
  /** The Bun binary that compiles: this machine's runtime ({@link bunRuntime} of {@link hostTarget}). */
  compiler: string;
  /** The Bun runtime copied into the executable: `target`'s ({@link bunRuntime}). */
  runtime: string;
  /**
   * The command prefix that runs a `target` binary here (`[]` for this machine's own, qemu-user for
   * another architecture: {@link runnerFor}), for the smoke test; `null` when it cannot run here,
   * and then it is not smoke-tested.
   */
  runner: readonly string[] | null;
}

/** `built`: a new executable replaced the last one; `unchanged`: it was up to date and kept. */
export type BuildResult = "built" | "unchanged";

/** What a build depended on: the compiler, its flags and the hash of every input file it read. */
interface Stamp {
  key: string;
  inputs: Record<string, string>;
}

/**
 * Builds `executable` for `options.target` into `options.outFile`, unless the file there was built
 * from the same inputs; smoke-tests it (when `runner` is not null) before it replaces the last one.
 * Throws a {@link BuildError}: `ENTRY_MISSING`, `COMPILE_FAILED` or `SMOKE_TEST_FAILED`.
 */
export function buildExecutable(executable: Executable, options: BuildOptions): BuildResult {
  const { outFile: output, target, compiler, runtime } = options;
  const workDir = join(options.workDir, executable.name);
  if (!existsSync(executable.entry)) {
    throw new BuildError(
      "ENTRY_MISSING",
      `bin ${executable.name} is ${executable.entry}, which does not exist: compile the package first (tsc)`,
    );
  }
  mkdirSync(workDir, { recursive: true });
  mkdirSync(dirname(output), { recursive: true });

  const stampFile = join(workDir, "stamp.json");
  const key = createHash("sha256")
    .update(JSON.stringify({ flags: BUN_FLAGS, target: target.bunTarget, compiler, runtime, output }))
    .update(JSON.stringify({ entry: executable.entry, version: executable.version, commit: options.commit }))
    .digest("hex");
  if (existsSync(output) && _upToDate(stampFile, key)) {
    if (options.runner?.length === 0) _smokeTest(output, executable, options);
    return "unchanged";
  }

  // Bun names a Windows executable `.exe` whatever --outfile says.
  const staging = join(workDir, executableFile(`${executable.name}.new`, target));
  const metafile = join(workDir, "meta.json");
  rmSync(staging, { force: true });
  // In an empty working directory with nothing but PATH: the maintainer's shell (BUN_OPTIONS, a
  // bunfig.toml, a .env) must not reach the build.
  const build = spawnSync(
    compiler,
    [
      "build",
      ...BUN_FLAGS,
      `--target=${target.bunTarget}`,
      // The version and commit --version prints (core's build-info.ts): the bundle has no package.json.
      `--define=__KCP_BUILD_VERSION__=${JSON.stringify(executable.version)}`,
      `--define=__KCP_BUILD_COMMIT__=${JSON.stringify(options.commit)}`,
      `--compile-executable-path=${runtime}`,
      `--outfile=${staging}`,
      `--metafile=${metafile}`,
      executable.entry,
    ],
    { cwd: workDir, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } },
  );
  if (build.error || build.status !== 0 || !existsSync(staging)) {
    throw new BuildError(
      "COMPILE_FAILED",
      `bun build of ${executable.name} for ${platformOf(target)} failed (exit ${build.status ?? build.signal}):\n` +
        _tail(`${build.error?.message ?? ""}\n${build.stdout}\n${build.stderr}`),
    );
  }
  if (options.runner) _smokeTest(staging, executable, options);
  _moveInto(staging, output);
  writeFileSync(stampFile, JSON.stringify({ key, inputs: _inputHashes(metafile, workDir) } satisfies Stamp));
  return "built";
}

/** Replaces `output` in one step, also when the work directory is on another file system. */
function _moveInto(file: string, output: string): void {
  try {
    renameSync(file, output);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    const copy = `${output}.new-${process.pid}`;
    copyFileSync(file, copy);
    chmodSync(copy, 0o755);
    renameSync(copy, output);
    rmSync(file, { force: true });
  }
}

/** Every input the last build read, from its metafile (paths relative to the build's cwd). */
function _inputHashes(metafile: string, cwd: string): Record<string, string> {
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, unknown> };
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(meta.inputs)) {
    const path = resolve(cwd, input);
    inputs[path] = _hashOf(path) ?? "";
  }
  return inputs;
}

function _upToDate(stampFile: string, key: string): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8")) as Stamp;
  } catch {
    return false;
  }
  if (stamp.key !== key || Object.keys(stamp.inputs).length === 0) return false;
  return Object.entries(stamp.inputs).every(([path, hash]) => _hashOf(path) === hash);
}

function _hashOf(path: string): string | undefined {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return undefined;
  }
}

function _tail(text: string): string {
  // A minified bundle's source line can be a megabyte long: keep the message and the stack.
  const lines = text
    .trim()
    .split("\n")
    .map((line) => (line.length > 200 ? `${line.slice(0, 200)}…` : line));
  return lines.slice(-15).join("\n");
}

/**
 * A working executable prints its own name, version, commit and platform, and nothing else,
 * whatever NODE_OPTIONS says; Bun itself would print its version.
 */
function _smokeTest(file: string, executable: Executable, options: BuildOptions): void {
  const runner = options.runner ?? [];
  const [command = file, ...prefix] = [...runner, file];
  const result = spawnSync(command, [...prefix, "--version"], {
    env: { NODE_OPTIONS: "--require /nonexistent-preload-must-be-ignored" },
    encoding: "utf8",
    timeout: runner.length > 0 ? 120_000 : 20_000,
  });
  const expected = `${executable.name} ${executable.version} (${options.commit}, ${platformOf(options.target)})\n`;
  if (result.status !== 0 || result.stdout !== expected || result.stderr !== "") {
    throw new BuildError(
      "SMOKE_TEST_FAILED",
      `smoke test of ${executable.name} failed: exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, ` +
        `stderr ${JSON.stringify(result.stderr)}; expected ${JSON.stringify(expected)} and empty stderr`,
    );
  }
}
