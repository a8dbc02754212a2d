/**
 * `pnpm build`: the packages (turbo's build graph), then every executable of the workspace as a
 * standalone Linux binary in dist/bin/ at the repo root, with @kubelet-credential-provider/build (the
 * library behind the `kcp-build` a vendor runs: the same compiler, flags and smoke test), imported
 * from its source since this runs before anything is built. Runs on the repo's own Node 24, and
 * calls turbo directly rather than through a nested pnpm.
 *
 * `pnpm build:release` (`--release`) also leaves, in dist/release/, every released executable (each
 * public package's, and kubelet-credential-sim, which ships with every provider: see
 * executables.ts) for every release target as `<name>-<os>-<arch>` (`.exe` for Windows), and their
 * SHA256SUMS; every executable of another platform is in dist/bin-<os>-<arch>/ (the e2e suite
 * runs the other architecture's under qemu-user, and the Windows release executables under Wine).
 * With `--release=auto` (what `pnpm test` uses), a Linux target this machine cannot run (no
 * qemu-user for the smoke test) is skipped with a notice instead of failing the build. Windows
 * executables are not run by the build.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  assetName,
  buildCommit,
  buildExecutable,
  bunRuntime,
  executableFile,
  hostTarget,
  isHost,
  RELEASE_TARGETS,
  runnerFor,
  type Target,
} from "../../../packages/build/src/index.ts";
import { findExecutables } from "./executables.ts";

const root = resolve(import.meta.dirname, "../../..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `the build runs on Node 24 or later (running ${process.version}); run it through pnpm, which brings it`,
  );
  process.exit(1);
}

const turbo = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
});
if (turbo.status !== 0) {
  console.error(turbo.error ? `cannot run turbo: ${turbo.error.message}` : "build failed: turbo run build");
  process.exit(1);
}

const executables = findExecutables(root);
if (executables.length === 0) {
  console.error("no executables found: no workspace package declares a bin");
  process.exit(1);
}
const outDir = join(root, "dist", "bin");
const commit = buildCommit(root);
/** Every runtime is a devDependency of tools/build, installed whatever the machine: never fetched. */
const runtimeOf = (target: Target) =>
  bunRuntime(target, {
    searchFrom: [join(root, "tools", "build")],
    cacheDir: join(root, "dist", ".bun-runtimes"),
    fetch: false,
  });
try {
  const host = hostTarget();
  const compiler = runtimeOf(host);
  for (const executable of executables) {
    const started = Date.now();
    const result = buildExecutable(executable, {
      outFile: join(outDir, executable.name),
      workDir: join(root, "dist", ".bun"),
      target: host,
      compiler,
      runtime: compiler,
      runner: [],
      commit,
    });
    console.error(
      `${result === "built" ? "built" : "up to date"}: dist/bin/${executable.name} (${Date.now() - started} ms)`,
    );
  }
  const release = process.argv.find((arg) => arg === "--release" || arg.startsWith("--release="));
  if (release) _buildRelease(release === "--release=auto", compiler);
} catch (error) {
  console.error(`build failed: ${(error as Error).message}`);
  process.exit(1);
}

function _buildRelease(skipUnavailable: boolean, compiler: string): void {
  const releaseDir = join(root, "dist", "release");
  rmSync(releaseDir, { recursive: true, force: true });
  mkdirSync(releaseDir, { recursive: true });
  const released = executables.filter((executable) => executable.released);
  const sums: string[] = [];
  for (const target of RELEASE_TARGETS) {
    const platform = `${target.os}-${target.arch}`;
    const targetDir = isHost(target) ? outDir : join(root, "dist", `bin-${platform}`);
    if (!isHost(target)) {
      let runner: string[] | null;
      try {
        runner = runnerFor(target);
      } catch (error) {
        if (!skipUnavailable) throw error;
        console.error(`skipped ${platform}: ${(error as Error).message}`);
        continue;
      }
      const options = {
        workDir: join(root, "dist", `.bun-${platform}`),
        target,
        compiler,
        runtime: runtimeOf(target),
        runner,
        commit,
      };
      // All of them, the example too, so that the e2e suite can run on this platform; only the
      // released ones go into dist/release.
      for (const executable of executables) {
        const started = Date.now();
        const result = buildExecutable(executable, {
          ...options,
          outFile: join(targetDir, executableFile(executable.name, target)),
        });
        console.error(
          `${result === "built" ? "built" : "up to date"}: ${platform} ${executable.name} (${Date.now() - started} ms${runner === null ? ", not run here" : ""})`,
        );
      }
    }
    for (const executable of released) {
      const asset = assetName(executable.name, target);
      const copy = join(releaseDir, `${asset}.tmp`);
      copyFileSync(join(targetDir, executableFile(executable.name, target)), copy);
      renameSync(copy, join(releaseDir, asset));
      const digest = createHash("sha256")
        .update(readFileSync(join(releaseDir, asset)))
        .digest("hex");
      sums.push(`${digest}  ${asset}`);
    }
  }
  writeFileSync(join(releaseDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.error(`release: ${sums.length} binaries and SHA256SUMS in dist/release/`);
}
