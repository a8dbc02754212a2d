import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pluginPath } from "./exec.ts";

describe("pluginPath: the kubelet's exec.LookPath(filepath.Join(binDir, name))", () => {
  let dir: string;
  const touch = (...names: string[]) => {
    for (const name of names) writeFileSync(join(dir, name), "");
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "kcp-plugin-path-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("Linux: the joined path, whatever else is in the directory", () => {
    touch("acr-credential-provider.exe");
    expect(pluginPath(dir, "acr-credential-provider", "linux", {})).toBe(
      join(dir, "acr-credential-provider"),
    );
  });

  it("Windows: a name without an extension runs the file with the first PATHEXT extension that exists", () => {
    touch("acr-credential-provider.exe", "acr-credential-provider.bat");
    expect(pluginPath(dir, "acr-credential-provider", "win32", {})).toBe(
      join(dir, "acr-credential-provider.exe"),
    );
    expect(pluginPath(dir, "acr-credential-provider", "win32", { PATHEXT: ".BAT;.EXE" })).toBe(
      join(dir, "acr-credential-provider.bat"),
    );
    expect(pluginPath(dir, "acr-credential-provider", "win32", { PATHEXT: "COM;;EXE" })).toBe(
      join(dir, "acr-credential-provider.exe"),
    );
  });

  it("Windows: a name with an extension is tried as it is first; a directory is not an executable", () => {
    touch("ecr-credential-provider.exe", "ecr-credential-provider.exe.com");
    expect(pluginPath(dir, "ecr-credential-provider.exe", "win32", {})).toBe(
      join(dir, "ecr-credential-provider.exe"),
    );
    mkdirSync(join(dir, "gcp.exe"));
    touch("gcp.exe.exe");
    expect(pluginPath(dir, "gcp.exe", "win32", {})).toBe(join(dir, "gcp.exe.exe"));
  });

  it("Windows: nothing there is the joined path, which the kubelet's error names", () => {
    touch("other.exe");
    expect(pluginPath(dir, "acr-credential-provider", "win32", {})).toBe(
      join(dir, "acr-credential-provider"),
    );
  });
});
