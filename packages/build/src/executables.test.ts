import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BuildError } from "./errors.ts";
import { packageExecutables } from "./executables.ts";

const root = mkdtempSync(join(tmpdir(), "kcp-build-executables-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pkg(name: string, manifest: unknown): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    typeof manifest === "string" ? manifest : JSON.stringify(manifest),
  );
  return dir;
}

function codeOf(run: () => unknown): [string, string] | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof BuildError) return [error.code, error.message];
    throw error;
  }
  return undefined;
}

describe("packageExecutables", () => {
  it("is every bin, in package.json's order, with the package's version and the bin's file", () => {
    const dir = pkg("two", {
      version: "1.2.0",
      bin: { "b-provider": "./dist/b.js", "a-provider": "dist/a.js" },
    });
    expect(packageExecutables(dir)).toEqual([
      { name: "b-provider", version: "1.2.0", packageDir: dir, entry: join(dir, "dist/b.js") },
      { name: "a-provider", version: "1.2.0", packageDir: dir, entry: join(dir, "dist/a.js") },
    ]);
  });

  it("names npm's short form after the package, without its scope", () => {
    const dir = pkg("short", {
      name: "@acme/registry-credential-provider",
      version: "0.3.0",
      bin: "./dist/cli.js",
    });
    expect(packageExecutables(dir).map((e) => e.name)).toEqual(["registry-credential-provider"]);
  });

  it('has none for a package that says "standalone": false, or has no bin', () => {
    expect(
      packageExecutables(pkg("tool", { version: "1.0.0", bin: { tool: "./cli.js" }, standalone: false })),
    ).toEqual([]);
    expect(packageExecutables(pkg("lib", { version: "1.0.0" }))).toEqual([]);
  });

  it("refuses a bin name that is not a plain file name", () => {
    for (const name of ["../escape", ".hidden", "a/b", "x;rm -rf", ""]) {
      const dir = pkg("bad-name", { version: "1.0.0", bin: { [name]: "./cli.js" } });
      expect(codeOf(() => packageExecutables(dir))).toEqual([
        "PACKAGE_INVALID",
        `bin name ${JSON.stringify(name)} in ${dir}/package.json is not a file name`,
      ]);
    }
  });

  it("says which package.json is missing or not JSON", () => {
    expect(codeOf(() => packageExecutables(join(root, "nowhere")))?.[1]).toBe(
      `cannot read ${join(root, "nowhere", "package.json")} (ENOENT)`,
    );
    const dir = pkg("garbled", "{ not json");
    expect(codeOf(() => packageExecutables(dir))).toEqual([
      "PACKAGE_INVALID",
      `${dir}/package.json is not a JSON object`,
    ]);
  });
});
