/**
 * One standalone executable: Bun's compiler bundles the package's compiled CLI (`dist/cli.js`) and
 * everything it imports into a copy of the Bun runtime for the target, as precompiled bytecode (the
 * start-up cost of a cache miss: parsing and compiling the bundle, is paid at build time).
 *
 * The runtime comes from the npm platform package pinned in tools/build's devDependencies (see
 * targets.ts), so a build never downloads anything. The executable does not read a `.env` or a
 * `bunfig.toml` from its working directory (a bunfig `preload` would run code as root on every
 * node); NODE_OPTIONS means nothing to Bun. Every result is smoke-tested before it replaces the
 * last one.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Executable } from "./executables.ts";
import { bunBinaryFor, HOST_TARGET, type Target } from "./targets.ts";

/**
 * The compiler's flags, besides the target, the runtime and the file names. Chosen by `pnpm bench`
 * (docs/performance.md): bytecode (without it a provider starts 2-3x slower), ES modules split into
 * chunks so that a lazily imported SDK is not even loaded before a request needs it, and a JIT
 * that tiers up 100x later (a provider runs for tens of milliseconds: JIT-compiling costs more
 * than it saves).
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

export interface BuildOptions {
  outDir: string;
  /** The commit `--version` names (commit.ts). */
  commit: string;
  workDir: string;
  target: Target;
  /** The command prefix that runs a `target` binary here (qemu-user for another architecture). */
  runner?: readonly string[];
}

export type BuildResult = "built" | "unchanged";

/** What a build depended on: the compiler, its flags and the hash of every input file it read. */
interface Stamp {
  key: string;
  inputs: Record<string, string>;
}

export function buildExecutable(executable: Executable, options: BuildOptions): BuildResult {
  const { outDir, target } = options;
  const runner = options.runner ?? [];
  const workDir = join(options.workDir, executable.name);
  mkdirSync(workDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });

  const compiler = bunBinaryFor(HOST_TARGET);
  const runtime = bunBinaryFor(target);
  const output = join(outDir, executable.name);
  const stampFile = join(workDir, "stamp.json");
  const key = createHash("sha256")
    .update(JSON.stringify({ flags: BUN_FLAGS, target: target.bunTarget, compiler, runtime }))
    .update(JSON.stringify({ entry: executable.entry, version: executable.version, commit: options.commit }))
    .digest("hex");
  if (existsSync(output) && _upToDate(stampFile, key)) {
    if (runner.length === 0) _smokeTest(output, executable, options);
    return "unchanged";
  }

  const staging = join(workDir, executable.name);
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
    throw new Error(
      `bun build of ${executable.name} for linux-${target.arch} failed (exit ${build.status ?? build.signal}):\n` +
        _tail(`${build.error?.message ?? ""}\n${build.stdout}\n${build.stderr}`),
    );
  }
  _smokeTest(staging, executable, options);
  renameSync(staging, output);
  writeFileSync(stampFile, JSON.stringify({ key, inputs: _inputHashes(metafile, workDir) } satisfies Stamp));
  return "built";
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
  const expected = `${executable.name} ${executable.version} (${options.commit}, linux/${options.target.arch})\n`;
  if (result.status !== 0 || result.stdout !== expected || result.stderr !== "") {
    throw new Error(
      `smoke test of ${executable.name} failed: exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, ` +
        `stderr ${JSON.stringify(result.stderr)}; expected ${JSON.stringify(expected)} and empty stderr`,
    );
  }
}
