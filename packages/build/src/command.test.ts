/**
 * kcp-build as a vendor runs it: on a tiny provider package (its entry prints the version line as
 * core's harness does), for this machine and with --release for both architectures; and every way
 * the command line can be wrong, each one line on stderr with its exit status.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCommand } from "./command.ts";
import { BUN_VERSION } from "./runtime.ts";
import { assetName, hostTarget, RELEASE_TARGETS, runnerFor } from "./targets.ts";

const dir = mkdtempSync(join(tmpdir(), "kcp-build-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const buildInfo = resolve(import.meta.dirname, "../../core/src/build-info.ts");
const ownVersion = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const status = runCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { status, stdout, stderr };
}

/** A provider package as a vendor has it after `tsc`: package.json, dist/cli.js. */
function provider(name: string, manifest: object = {}): string {
  const packageDir = join(dir, name);
  mkdirSync(join(packageDir, "dist"), { recursive: true });
  writeFileSync(
    join(packageDir, "package.json"),
    JSON.stringify({
      name,
      version: "0.4.2",
      bin: { "tiny-credential-provider": "./dist/cli.js" },
      ...manifest,
    }),
  );
  writeFileSync(
    join(packageDir, "dist", "cli.js"),
    `import { packageVersion, versionLine } from ${JSON.stringify(buildInfo)};\n` +
      `if (process.argv[2] === "--version") process.stdout.write(versionLine("tiny-credential-provider", packageVersion(new URL("../package.json", import.meta.url))) + "\\n");\n`,
  );
  return packageDir;
}

describe("kcp-build", { timeout: 180_000 }, () => {
  it("builds each bin for this machine into dist/bin, and says so on stderr", () => {
    const packageDir = provider("host-only");
    const result = run([packageDir]);
    expect(result.status, result.stderr).toBe(EXIT_OK);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^kcp-build: built: \S+host-only\/dist\/bin\/tiny-credential-provider \(linux\/(amd64|arm64), [0-9.]+ s\)\n$/,
    );
    const version = spawnSync(join(packageDir, "dist/bin/tiny-credential-provider"), ["--version"], {
      encoding: "utf8",
    });
    expect(version.stdout).toBe(`tiny-credential-provider 0.4.2 (unknown, linux/${hostTarget().arch})\n`);
    expect(run([packageDir]).stderr).toMatch(/^kcp-build: up to date: /);
  });

  it("with --release, builds for amd64 and arm64 with a SHA256SUMS, running each binary this machine can run", () => {
    const packageDir = provider("release");
    // The other architecture's runtime, installed in the project as a vendor may (else npm pack fetches it).
    for (const target of RELEASE_TARGETS) {
      const installed = resolve(import.meta.dirname, "../node_modules", target.bunPackage);
      const link = join(packageDir, "node_modules", target.bunPackage);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(installed, link);
    }
    const result = run(["--release", packageDir]);
    expect(result.status, result.stderr).toBe(EXIT_OK);
    const sums = readFileSync(join(packageDir, "dist/release/SHA256SUMS"), "utf8");
    const lines = sums.trim().split("\n");
    expect(lines.map((line) => line.slice(66))).toEqual([
      "tiny-credential-provider-linux-amd64",
      "tiny-credential-provider-linux-arm64",
      "tiny-credential-provider-windows-amd64.exe",
    ]);
    for (const line of lines) {
      const file = join(packageDir, "dist/release", line.slice(66));
      expect(line.slice(0, 64)).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
    }
    for (const target of RELEASE_TARGETS) {
      const file = join(packageDir, "dist/release", assetName("tiny-credential-provider", target));
      let runner: string[] | null;
      try {
        runner = runnerFor(target);
      } catch {
        expect(result.stderr).toContain(`-linux-${target.arch} (linux/${target.arch}, `);
        expect(result.stderr).toContain("; not run here: running linux/");
        continue;
      }
      if (runner === null) {
        // Windows: built, not run (the e2e suite runs the project's under Wine): a PE32+ x64 console executable.
        const bytes = readFileSync(file);
        const pe = bytes.readUInt32LE(0x3c);
        expect(bytes.subarray(0, 2).toString("latin1")).toBe("MZ");
        expect(bytes.subarray(pe, pe + 4).toString("latin1")).toBe("PE\0\0");
        expect(bytes.readUInt16LE(pe + 4)).toBe(0x8664);
        expect(result.stderr).toMatch(
          /tiny-credential-provider-windows-amd64\.exe \(windows\/amd64, [\d.]+ s; not run here\)/,
        );
        continue;
      }
      const [command = "", ...args] = [...runner, file];
      const version = spawnSync(command, [...args, "--version"], { encoding: "utf8" });
      expect(version.stdout).toBe(`tiny-credential-provider 0.4.2 (unknown, linux/${target.arch})\n`);
    }
    expect(result.stderr).toContain("kcp-build: wrote ");
    expect(result.stderr).toContain("SHA256SUMS (3 executables)\n");
  });

  it("writes where --out-dir says", () => {
    const packageDir = provider("out-dir");
    const result = run(["--out-dir", join(dir, "elsewhere"), packageDir]);
    expect(result.status, result.stderr).toBe(EXIT_OK);
    expect(spawnSync(join(dir, "elsewhere", "tiny-credential-provider"), ["--version"]).status).toBe(0);
  });

  it("refuses a package that is not compiled, or has nothing to build, in one line", () => {
    const packageDir = provider("not-compiled");
    rmSync(join(packageDir, "dist"), { recursive: true });
    expect(run([packageDir])).toEqual({
      status: EXIT_FAILED,
      stdout: "",
      stderr: `kcp-build: bin tiny-credential-provider is ${packageDir}/dist/cli.js, which does not exist: compile the package first (tsc)\n`,
    });
    const library = provider("library", { bin: undefined });
    expect(run([library]).stderr).toBe(
      `kcp-build: ${library}/package.json declares no bin: there is nothing to build\n`,
    );
    const missing = join(dir, "missing");
    expect(run([missing])).toEqual({
      status: EXIT_FAILED,
      stdout: "",
      stderr: `kcp-build: cannot read ${missing}/package.json (ENOENT)\n`,
    });
  });

  it("answers --help and --version on stdout", () => {
    const help = run(["--help"]);
    expect(help.status).toBe(EXIT_OK);
    expect(help.stdout).toMatch(/^Usage: kcp-build \[--release\] \[--out-dir DIR\] \[PACKAGE_DIR\]\n/);
    expect(run(["--version"])).toEqual({
      status: EXIT_OK,
      stdout: `kcp-build ${ownVersion} (bun ${BUN_VERSION})\n`,
      stderr: "",
    });
  });

  it("refuses a wrong command line with exit status 2", () => {
    for (const argv of [["--relase"], ["a", "b"], ["--out-dir"], ["--out-dir="]]) {
      const result = run(argv);
      expect(result.status, argv.join(" ")).toBe(EXIT_USAGE);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^kcp-build: .+\nRun kcp-build --help for usage\.\n$/);
    }
  });

  it("is the bin: the process exits with the command's status", () => {
    const cli = resolve(import.meta.dirname, "cli.ts");
    expect(spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" }).status).toBe(EXIT_OK);
    const wrong = spawnSync(process.execPath, [cli, "--nope"], { encoding: "utf8" });
    expect([wrong.status, wrong.stdout]).toEqual([EXIT_USAGE, ""]);
    expect(wrong.stderr.split("\n")[0]).toMatch(/^kcp-build: Unknown option '--nope'/);
  });
});
