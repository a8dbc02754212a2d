/**
 * shellcheck (Debian's package) on every shell script in the repository: files named *.sh, and files
 * whose first line is a sh, bash, dash, ash or ksh shebang (directly or through env). The scripts in
 * deploy/base/*.yaml are generated from tools/install/install.sh (render-deploy.ts), so install.sh is
 * what is checked. Where shellcheck is not installed the check is skipped with a notice, except in
 * CI (CI=true), where it is required.
 */
import { execFile } from "node:child_process";
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { which } from "./testing.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Directories that hold no source of ours: dependencies, build output, caches. */
const SKIP_DIRS = new Set(["node_modules", ".git", "dist", ".turbo", "coverage", "bench-results"]);
const SHELLS = new Set(["sh", "bash", "dash", "ash", "ksh", "mksh", "posh"]);

/** The shell a file's first line names (#!/bin/sh, #!/usr/bin/env bash...), or undefined. */
function shebangShell(file: string): string | undefined {
  const buf = Buffer.alloc(128);
  const fd = openSync(file, "r");
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const line = buf.subarray(0, n).toString("latin1").split("\n")[0] ?? "";
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(line);
  if (!m) return undefined;
  let interpreter = basename(m[1] as string);
  if (interpreter === "env" && m[2]) interpreter = basename(m[2]);
  return SHELLS.has(interpreter) ? interpreter : undefined;
}

/** Every shell script under the repository's root, as paths relative to it, sorted. */
function shellScripts(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(p);
      } else if (entry.isFile() && (entry.name.endsWith(".sh") || shebangShell(p))) {
        found.push(relative(root, p));
      }
    }
  };
  walk(root);
  return found.sort();
}

const shellcheck = which("shellcheck");
const required = process.env.CI === "true";
const scripts = shellScripts();

describe("shell scripts", () => {
  it("are found: the installer and the CI scripts among them, nothing but scripts", () => {
    expect(scripts).toEqual(
      expect.arrayContaining(["tools/install/install.sh", ".ci/run", ".ci/install-test-deps"]),
    );
    for (const s of scripts) expect(s.endsWith(".sh") || shebangShell(join(root, s)), s).toBeTruthy();
    expect(scripts.some((s) => s.includes("node_modules") || s.startsWith("dist/"))).toBe(false);
  });

  if (!shellcheck && !required) {
    it.skip(`shellcheck is not installed (apt-get install shellcheck): ${scripts.length} scripts not checked`, () => {});
    return;
  }

  it.each(scripts)("%s is shellcheck clean", async (file) => {
    if (!shellcheck) throw new Error("shellcheck is required when CI=true: apt-get install shellcheck");
    const r = await new Promise<{ code: number; out: string }>((ok) => {
      // Every severity (style included); the shell from the shebang, sh for a bare *.sh.
      execFile(
        shellcheck,
        ["--severity=style", "--format=gcc", file],
        { cwd: root },
        (error, stdout, stderr) =>
          ok({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
      );
    });
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });
});
