/**
 * One standalone executable: an esbuild bundle (minified CommonJS, since Node 24's SEA has no ESM
 * entry), injected into a stripped copy of the Node binary that runs the build. A provider (its
 * package.json says `"standalone": {"snapshot": true}`) starts from a V8 startup snapshot taken
 * after its SDK was evaluated (see core's _snapshot.ts); anything else gets V8's code cache.
 * The result ignores NODE_OPTIONS (execArgvExtension "none") and prints no experimental warning.
 * Every result is smoke-tested: if it answers like plain `node`, the build fails.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { BUILDING_SNAPSHOT_ENV, lazyBuiltins } from "./_lazy-builtins.ts";
import type { Executable } from "./executables.ts";

/** The sentinel Node's SEA loader looks for (see Node's single-executable-applications docs). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface BuildOptions {
  outDir: string;
  workDir: string;
  /** The Node binary to embed; the blob is made by it too, so blob and binary always agree. */
  nodeBinary: string;
  /** The command prefix that runs `nodeBinary` here (qemu-user for another architecture). */
  runner?: readonly string[];
  /** The strip that understands `nodeBinary` (binutils' own is for the host architecture). */
  strip?: string;
  log: (line: string) => void;
}

export type BuildResult = "built" | "unchanged";

export async function buildExecutable(executable: Executable, options: BuildOptions): Promise<BuildResult> {
  const { outDir, nodeBinary, log } = options;
  const runner = options.runner ?? [];
  const workDir = join(options.workDir, executable.name);
  mkdirSync(workDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });

  const bundle = join(workDir, "bundle.cjs");
  await _bundle(executable.entry, bundle);

  const seaConfig = {
    main: bundle,
    output: join(workDir, "sea.blob"),
    disableExperimentalSEAWarning: true,
    // A snapshot holds compiled code already; the code cache is for scripts compiled at start.
    useCodeCache: !executable.snapshot,
    useSnapshot: executable.snapshot,
    execArgvExtension: "none",
  };
  const output = join(outDir, executable.name);
  const stamp = join(workDir, "stamp");
  const fingerprint = createHash("sha256")
    .update(readFileSync(bundle))
    .update(JSON.stringify(seaConfig))
    .update(readFileSync(nodeBinary))
    .digest("hex");
  if (existsSync(output) && existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) {
    _smokeTest(output, executable, runner);
    return "unchanged";
  }

  writeFileSync(join(workDir, "sea-config.json"), JSON.stringify(seaConfig, null, 2));
  // The snapshot keeps whatever the modules read while they were evaluated, so the build's own
  // environment (a maintainer's AWS keys, say) must not be there to read.
  const [command = nodeBinary, ...prefix] = [...runner, nodeBinary];
  const blob = spawnSync(
    command,
    [...prefix, "--experimental-sea-config", join(workDir, "sea-config.json")],
    {
      encoding: "utf8",
      env: executable.snapshot ? { [BUILDING_SNAPSHOT_ENV]: "1" } : { PATH: process.env.PATH ?? "" },
    },
  );
  if (blob.status !== 0) {
    throw new Error(
      `building the SEA blob of ${executable.name} failed (exit ${blob.status ?? blob.signal}):\n${_tail(blob.stderr)}`,
    );
  }

  const staging = join(workDir, executable.name);
  rmSync(staging, { force: true });
  copyFileSync(nodeBinary, staging);
  // Strip before injecting: stripping afterwards would cut the blob back out.
  const stripCommand = options.strip ?? "strip";
  const strip = spawnSync(stripCommand, ["--strip-all", staging], { stdio: "pipe" });
  if (strip.error) {
    log(`  ${stripCommand} not found; ${executable.name} keeps Node's symbols (larger, same behaviour)`);
  } else if (strip.status !== 0) throw new Error(`strip failed for ${executable.name}: ${strip.stderr}`);

  // In a child process: postject's LIEF prints harmless warnings about the stripped section
  // table, which belong in the build log only when the injection fails.
  const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
  const inject = spawnSync(
    process.execPath,
    [postject, staging, "NODE_SEA_BLOB", seaConfig.output, "--sentinel-fuse", SEA_FUSE],
    { encoding: "utf8" },
  );
  if (inject.status !== 0) {
    throw new Error(`postject failed for ${executable.name}:\n${inject.stdout}${inject.stderr}`);
  }

  _smokeTest(staging, executable, runner);
  // Copied rather than renamed: the page cache of the file postject wrote maps in large chunks,
  // which made a fresh build's peak RSS ~15 MB larger than the same bytes copied (or read after a
  // reboot) would be. The rename of the copy keeps the replacement atomic.
  const copy = `${output}.tmp-${process.pid}`;
  copyFileSync(staging, copy);
  renameSync(copy, output);
  rmSync(staging, { force: true });
  writeFileSync(stamp, fingerprint);
  return "built";
}

function _tail(text: string): string {
  // A minified bundle's source line can be a megabyte long: keep the message and the stack.
  const lines = text
    .trim()
    .split("\n")
    .map((line) => (line.length > 200 ? `${line.slice(0, 200)}…` : line));
  return lines.slice(-15).join("\n");
}

async function _bundle(entry: string, outfile: string): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    minify: true,
    legalComments: "none",
    logLevel: "error",
    // A SEA can only require built-in modules: everything else must be in the bundle.
    packages: "bundle",
    // ES module builds first where a package has both (the AWS SDK's dist-es): esbuild can drop
    // what is never imported (ECR's bundle 622 -> 529 KB, 2 MB less peak RSS).
    mainFields: ["module", "main"],
    plugins: [lazyBuiltins()],
    // Stand-ins for web globals whose first use loads all of undici (see each file).
    inject: [join(import.meta.dirname, "_lazy-form-data.ts"), join(import.meta.dirname, "_light-fetch.ts")],
  });
}

/** Plain node would print its own version; a working SEA prints the provider's, and nothing else. */
function _smokeTest(file: string, executable: Executable, runner: readonly string[]): void {
  const [command = file, ...prefix] = [...runner, file];
  const result = spawnSync(command, [...prefix, "--version"], {
    env: { NODE_OPTIONS: "--require /nonexistent-preload-must-be-ignored" },
    encoding: "utf8",
    timeout: runner.length > 0 ? 120_000 : 20_000,
  });
  const expected = `${executable.name} ${executable.version}\n`;
  if (result.status !== 0 || result.stdout !== expected || result.stderr !== "") {
    throw new Error(
      `smoke test of ${executable.name} failed: exit ${result.status}, stdout ${JSON.stringify(result.stdout)}, ` +
        `stderr ${JSON.stringify(result.stderr)}; expected ${JSON.stringify(expected)} and empty stderr`,
    );
  }
}
