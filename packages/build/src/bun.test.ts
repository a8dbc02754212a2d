/**
 * The build of one executable, on a tiny package whose entry point prints its version as a
 * provider does (core's build-info.ts): it is rebuilt exactly when an input it read, its version or
 * its commit changed; `--version` prints package.json's version, the commit and the platform, also
 * after a version bump; its smoke test refuses a binary that does not answer --version as the
 * package says; and the result reads neither NODE_OPTIONS nor a bunfig.toml's preload.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildExecutable } from "./bun.ts";
import { BuildError } from "./errors.ts";
import { packageExecutables } from "./executables.ts";
import { bunRuntime } from "./runtime.ts";
import { hostTarget } from "./targets.ts";

const dir = mkdtempSync(join(tmpdir(), "kcp-bun-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const buildInfo = resolve(import.meta.dirname, "../../core/src/build-info.ts");
const packageDir = join(dir, "packages", "tiny");
const entry = join(packageDir, "src", "cli.js");
const helper = join(packageDir, "src", "greeting.js");
const host = hostTarget();
const bun = bunRuntime(host, { cacheDir: join(dir, "runtimes"), fetch: false });
const options = {
  outFile: join(dir, "bin", "tiny-provider"),
  workDir: join(dir, "work"),
  target: host,
  compiler: bun,
  runtime: bun,
  runner: [],
  commit: "0123456789ab",
};

/** The tiny package at `version`, as the build finds it (its package.json's bin). */
function tinyPackage(version: string, print = 'versionLine("tiny-provider", VERSION)') {
  mkdirSync(join(packageDir, "src"), { recursive: true });
  writeFileSync(
    join(packageDir, "package.json"),
    JSON.stringify({ name: "tiny", version, private: true, bin: { "tiny-provider": "./src/cli.js" } }),
  );
  writeFileSync(helper, 'export const GREETING = "hello";\n');
  writeFileSync(
    entry,
    `import { packageVersion, versionLine } from ${JSON.stringify(buildInfo)};\n` +
      'import { GREETING } from "./greeting.js";\n' +
      'const VERSION = packageVersion(new URL("../package.json", import.meta.url));\n' +
      `if (process.argv[2] === "--version") process.stdout.write(${print} + "\\n");\n` +
      "else console.log(GREETING);\n",
  );
  const [executable] = packageExecutables(packageDir);
  if (!executable) throw new Error("the tiny package has no executable");
  return executable;
}

const versionOf = (cwd?: string, env?: Record<string, string>) =>
  spawnSync(options.outFile, ["--version"], { encoding: "utf8", cwd, env });
const hostArch = host.arch;

describe("buildExecutable", { timeout: 60_000 }, () => {
  it("builds, is up to date while its inputs are unchanged, and rebuilds when an imported file changes", () => {
    const executable = tinyPackage("1.2.3");
    expect(buildExecutable(executable, options)).toBe("built");
    expect(buildExecutable(executable, options)).toBe("unchanged");
    tinyPackage("1.2.3"); // same bytes
    expect(buildExecutable(executable, options)).toBe("unchanged");
    writeFileSync(helper, 'export const GREETING = "hello"; // changed\n');
    expect(buildExecutable(executable, options)).toBe("built");
  });

  it("prints package.json's version, the commit and the platform; a version bump or a new commit rebuilds", () => {
    buildExecutable(tinyPackage("1.2.3"), options);
    expect(versionOf().stdout).toBe(`tiny-provider 1.2.3 (0123456789ab, linux/${hostArch})\n`);
    // What `changeset version` does: package.json alone changes.
    const bumped = tinyPackage("1.3.0-rc.1");
    expect(buildExecutable(bumped, options)).toBe("built");
    expect(versionOf().stdout).toBe(`tiny-provider 1.3.0-rc.1 (0123456789ab, linux/${hostArch})\n`);
    expect(buildExecutable(bumped, { ...options, commit: "ba9876543210-dirty" })).toBe("built");
    expect(versionOf().stdout).toBe(`tiny-provider 1.3.0-rc.1 (ba9876543210-dirty, linux/${hostArch})\n`);
    // The same source on Node reads package.json itself and names the runtime.
    const onNode = spawnSync(process.execPath, [entry, "--version"], { encoding: "utf8" });
    expect(onNode.stdout).toMatch(/^tiny-provider 1\.3\.0-rc\.1 \(node v[0-9.]+, linux\/(amd64|arm64)\)\n$/);
  });

  it("refuses an entry point that is not built, naming the compile step", () => {
    const executable = { ...tinyPackage("1.2.3"), entry: join(packageDir, "dist", "cli.js") };
    expect(() => buildExecutable(executable, options)).toThrow(
      new BuildError(
        "ENTRY_MISSING",
        `bin tiny-provider is ${executable.entry}, which does not exist: compile the package first (tsc)`,
      ),
    );
  });

  it("builds a binary it cannot run without a smoke test (runner null), and says so by not failing", () => {
    const executable = tinyPackage("1.2.3", '"not the version line"');
    const outFile = join(dir, "unchecked", "tiny-provider");
    expect(
      buildExecutable(executable, {
        ...options,
        outFile,
        workDir: join(dir, "work-unchecked"),
        runner: null,
      }),
    ).toBe("built");
    expect(spawnSync(outFile, ["--version"], { encoding: "utf8" }).stdout).toBe("not the version line\n");
  });

  it("refuses a binary whose --version is not the package's, and keeps the last good one", () => {
    const executable = tinyPackage("1.2.3");
    buildExecutable(executable, options);
    let failure: unknown;
    try {
      buildExecutable(tinyPackage("1.2.3", '"tiny-provider 9.9.9"'), options);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(BuildError);
    expect((failure as BuildError).code).toBe("SMOKE_TEST_FAILED");
    expect((failure as BuildError).message).toMatch(
      /smoke test of tiny-provider failed: exit 0, stdout "tiny-provider 9\.9\.9\\n"/,
    );
    expect(versionOf().stdout).toBe(`tiny-provider 1.2.3 (0123456789ab, linux/${hostArch})\n`);
  });

  it("makes an executable that reads neither NODE_OPTIONS nor a bunfig.toml preload in its working directory", () => {
    buildExecutable(tinyPackage("1.2.3"), options);
    const cwd = join(dir, "cwd");
    mkdirSync(cwd, { recursive: true });
    const marker = join(cwd, "ran");
    writeFileSync(
      join(cwd, "evil.js"),
      `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`,
    );
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.js"]\n');
    const run = versionOf(cwd, { NODE_OPTIONS: `--require ${join(cwd, "evil.js")}` });
    expect([run.status, run.stdout, run.stderr]).toEqual([
      0,
      `tiny-provider 1.2.3 (0123456789ab, linux/${hostArch})\n`,
      "",
    ]);
    expect(existsSync(marker)).toBe(false);
  });
});
