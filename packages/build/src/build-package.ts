/**
 * What `kcp-build` does, as a function: every executable of one package, for this machine or for
 * every release target, with the same compiler, flags and smoke test as this project's own
 * providers.
 */
import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { type BuildResult, buildExecutable } from "./bun.ts";
import { buildCommit } from "./commit.ts";
import { BuildError } from "./errors.ts";
import { packageExecutables, readManifest } from "./executables.ts";
import { bunRuntime } from "./runtime.ts";
import { assetName, hostTarget, platformOf, RELEASE_TARGETS, runnerFor, type Target } from "./targets.ts";

/** What to build, and where: see `kcp-build --help`. */
export interface BuildPackageOptions {
  /** The package whose bins to build. */
  packageDir: string;
  /**
   * Build for every release target into `<outDir>/<bin>-<os>-<arch>` (`.exe` for Windows), with a
   * `SHA256SUMS` of them, instead of for this machine into `<outDir>/<bin>`.
   */
  release?: boolean;
  /** Default `dist/bin`, or `dist/release` with `release`, in the package. */
  outDir?: string;
  /** Build stamps and fetched runtimes; default `node_modules/.cache/kcp-build` in the package. */
  cacheDir?: string;
  /** The commit `--version` names; default the package's git HEAD ({@link buildCommit}). */
  commit?: string;
  /** Progress, one line each; paths relative to the working directory. */
  log?: (line: string) => void;
}

/** One executable {@link buildPackage} built, or found up to date. */
export interface BuiltExecutable {
  /** The bin's name. */
  name: string;
  /** The platform it is for. */
  target: Target;
  /** Where it is. */
  file: string;
  /** Whether it was built now or found up to date. */
  result: BuildResult;
  /** Whether it ran its smoke test here (not a Windows binary, nor one qemu-user cannot run). */
  smokeTested: boolean;
}

/**
 * Builds every executable of one package (`kcp-build`): for this machine, or with `release` for
 * every target of {@link RELEASE_TARGETS} with a SHA256SUMS. Throws a {@link BuildError}.
 */
export function buildPackage(options: BuildPackageOptions): BuiltExecutable[] {
  const packageDir = resolve(options.packageDir);
  const manifest = readManifest(packageDir);
  const executables = packageExecutables(packageDir, manifest);
  if (executables.length === 0) {
    const why = manifest.standalone === false ? 'says "standalone": false' : "declares no bin";
    throw new BuildError(
      "PACKAGE_INVALID",
      `${join(packageDir, "package.json")} ${why}: there is nothing to build`,
    );
  }
  const log = options.log ?? (() => {});
  const release = options.release === true;
  const outDir = resolve(packageDir, options.outDir ?? (release ? "dist/release" : "dist/bin"));
  const cacheDir = resolve(packageDir, options.cacheDir ?? "node_modules/.cache/kcp-build");
  const commit = options.commit ?? buildCommit(packageDir);
  const runtimes = {
    searchFrom: [packageDir],
    cacheDir: join(cacheDir, "runtimes"),
    projectDir: packageDir,
    log,
  };
  const host = hostTarget();
  const compiler = bunRuntime(host, runtimes);
  const shown = (file: string) => relative(process.cwd(), file) || ".";

  const built: BuiltExecutable[] = [];
  for (const target of release ? RELEASE_TARGETS : [host]) {
    const runtime = bunRuntime(target, runtimes);
    let runner: string[] | null;
    let notRun = "";
    try {
      runner = runnerFor(target);
      if (runner === null) notRun = "; not run here";
    } catch (error) {
      if (!(error instanceof BuildError) || error.code !== "RUNNER_UNAVAILABLE") throw error;
      runner = null;
      notRun = `; not run here: ${error.message}`;
    }
    for (const executable of executables) {
      const file = join(outDir, release ? assetName(executable.name, target) : executable.name);
      const started = Date.now();
      const result = buildExecutable(executable, {
        outFile: file,
        commit,
        workDir: join(cacheDir, `${release ? "release" : "bin"}-${target.os}-${target.arch}`),
        target,
        compiler,
        runtime,
        runner,
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      log(
        `${result === "built" ? "built" : "up to date"}: ${shown(file)} (${platformOf(target)}, ${seconds} s${notRun})`,
      );
      built.push({ name: executable.name, target, file, result, smokeTested: runner !== null });
    }
  }
  if (release) {
    const sums = built
      .map(
        ({ file }) =>
          `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${relative(outDir, file)}`,
      )
      .sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
    const sumsFile = join(outDir, "SHA256SUMS");
    writeFileSync(`${sumsFile}.new`, `${sums.join("\n")}\n`);
    renameSync(`${sumsFile}.new`, sumsFile);
    log(`wrote ${shown(sumsFile)} (${sums.length} executables)`);
  }
  return built;
}
