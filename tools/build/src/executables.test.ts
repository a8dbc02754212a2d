import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findExecutables } from "./executables.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspace(packages: Record<string, object>): string {
  const root = mkdtempSync(join(tmpdir(), "kcp-build-"));
  dirs.push(root);
  for (const [path, manifest] of Object.entries(packages)) {
    mkdirSync(join(root, path), { recursive: true });
    writeFileSync(join(root, path, "package.json"), JSON.stringify(manifest));
  }
  return root;
}

describe("findExecutables", () => {
  it('lists every bin of every workspace package, in a stable order, but not a package\'s that says "standalone": false', () => {
    const root = workspace({
      "packages/gcp": { version: "1.0.0", bin: { "auth-provider-gcp": "./dist/cli.js" } },
      "packages/core": { version: "1.0.0" },
      "packages/acr": { version: "2.0.0", bin: { "acr-credential-provider": "./dist/cli.js" } },
      "packages/kubelet-sim": { version: "0.1.0", bin: { "kubelet-credential-sim": "./dist/cli.js" } },
      "packages/build": { version: "0.1.0", bin: { "kcp-build": "./dist/cli.js" }, standalone: false },
    });
    expect(findExecutables(root).map((e) => [e.name, e.version])).toEqual([
      ["acr-credential-provider", "2.0.0"],
      ["auth-provider-gcp", "1.0.0"],
      ["kubelet-credential-sim", "0.1.0"],
    ]);
    expect(findExecutables(root)[0]?.entry).toBe(join(root, "packages/acr/dist/cli.js"));
  });

  it("releases a public package's executables, and a private one's only when it ships with the providers", () => {
    const root = workspace({
      "packages/ecr": { version: "1.0.0", bin: { "ecr-credential-provider": "./dist/cli.js" } },
      "examples/provider": {
        version: "0.0.0",
        private: true,
        bin: { "example-credential-provider": "./dist/cli.js" },
      },
      "tools/private-sim": {
        version: "0.1.0",
        private: true,
        bin: { "kubelet-credential-sim": "./dist/cli.js" },
        standalone: { releaseWithProviders: true },
      },
    });
    expect(findExecutables(root).map((e) => [e.name, e.released])).toEqual([
      ["ecr-credential-provider", true],
      ["example-credential-provider", false],
      ["kubelet-credential-sim", true],
    ]);
  });

  it("puts every provider and the simulator of this repository into dist/release, and not the example", () => {
    const executables = findExecutables(resolve(import.meta.dirname, "../../.."));
    expect(
      executables
        .filter((e) => e.released)
        .map((e) => e.name)
        .sort(),
    ).toEqual([
      "acr-credential-provider",
      "auth-provider-gcp",
      "ecr-credential-provider",
      "kubelet-credential-sim",
    ]);
  });

  it("finds the example provider in this repository", () => {
    const names = findExecutables(resolve(import.meta.dirname, "../../..")).map((e) => e.name);
    expect(names).toContain("example-credential-provider");
  });
});
