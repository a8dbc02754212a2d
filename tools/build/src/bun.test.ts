/**
 * The build of one executable, on a tiny entry point: it is rebuilt exactly when an input it read
 * changed, its smoke test refuses a binary that does not answer --version as the package says,
 * and the result reads neither NODE_OPTIONS nor a bunfig.toml's preload.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildExecutable } from "./bun.ts";
import type { Executable } from "./executables.ts";
import { HOST_TARGET } from "./targets.ts";

const dir = mkdtempSync(join(tmpdir(), "kcp-bun-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = join(dir, "src", "cli.js");
const helper = join(dir, "src", "version.js");
const executable: Executable = {
  name: "tiny-provider",
  version: "1.2.3",
  packageDir: dir,
  entry,
  private: true,
  released: false,
};
const options = { outDir: join(dir, "bin"), workDir: join(dir, "work"), target: HOST_TARGET };

function writeSources(version: string) {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(helper, `export const VERSION = ${JSON.stringify(version)};\n`);
  writeFileSync(
    entry,
    'import { VERSION } from "./version.js";\nif (process.argv[2] === "--version") process.stdout.write("tiny-provider " + VERSION + "\\n");\n',
  );
}

describe("buildExecutable", { timeout: 60_000 }, () => {
  it("builds, is up to date while its inputs are unchanged, and rebuilds when an imported file changes", () => {
    writeSources("1.2.3");
    expect(buildExecutable(executable, options)).toBe("built");
    expect(buildExecutable(executable, options)).toBe("unchanged");
    writeSources("1.2.3"); // same bytes
    expect(buildExecutable(executable, options)).toBe("unchanged");
    writeFileSync(helper, 'export const VERSION = "1.2.3"; // changed\n');
    expect(buildExecutable(executable, options)).toBe("built");
  });

  it("refuses a binary whose --version is not the package's, and keeps the last good one", () => {
    writeSources("9.9.9");
    expect(() => buildExecutable(executable, options)).toThrow(
      /smoke test of tiny-provider failed: exit 0, stdout "tiny-provider 9\.9\.9\\n"/,
    );
    const run = spawnSync(join(options.outDir, "tiny-provider"), ["--version"], { encoding: "utf8" });
    expect(run.stdout).toBe("tiny-provider 1.2.3\n");
  });

  it("makes an executable that reads neither NODE_OPTIONS nor a bunfig.toml preload in its working directory", () => {
    writeSources("1.2.3");
    buildExecutable(executable, options);
    const cwd = join(dir, "cwd");
    mkdirSync(cwd, { recursive: true });
    const marker = join(cwd, "ran");
    writeFileSync(
      join(cwd, "evil.js"),
      `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`,
    );
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.js"]\n');
    const run = spawnSync(join(options.outDir, "tiny-provider"), ["--version"], {
      cwd,
      encoding: "utf8",
      env: { NODE_OPTIONS: `--require ${join(cwd, "evil.js")}` },
    });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, "tiny-provider 1.2.3\n", ""]);
    expect(existsSync(marker)).toBe(false);
  });
});
