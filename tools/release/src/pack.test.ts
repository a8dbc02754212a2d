// The release check on the real packages (their built dist/ packed by pnpm), and proof that it
// catches a broken package.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkAllPackages,
  checkTarball,
  type Finding,
  listWorkspacePackages,
  type PackReport,
} from "./pack.ts";

const run = promisify(execFile);

const PUBLIC = [
  "@kubelet-credential-provider/acr",
  "@kubelet-credential-provider/build",
  "@kubelet-credential-provider/config",
  "@kubelet-credential-provider/core",
  "@kubelet-credential-provider/ecr",
  "@kubelet-credential-provider/gcp",
  "@kubelet-credential-provider/kubelet-sim",
];
/** Published as a command only: its modules are not an API (no "." export). */
const COMMAND_ONLY = ["@kubelet-credential-provider/kubelet-sim"];

const workspace = await listWorkspacePackages();
const workspaceVersions = new Map(workspace.map((pkg) => [pkg.name, pkg.version]));
const reports: PackReport[] = await checkAllPackages();

function messages(report: PackReport, check: Finding["check"]): string[] {
  return report.findings.filter((finding) => finding.check === check).map((finding) => finding.message);
}

describe("the Node each public package supports", () => {
  it("is one floor, `>=X.Y.Z` in engines, and the `node` its unit tests run on is exactly that", () => {
    const floors = workspace
      .filter((pkg) => PUBLIC.includes(pkg.name))
      .map((pkg) => {
        const manifest = JSON.parse(readFileSync(join(pkg.dir, "package.json"), "utf8")) as {
          engines?: { node?: string };
          devDependencies?: Record<string, string>;
        };
        const floor = /^>=(\d+\.\d+\.\d+)$/.exec(manifest.engines?.node ?? "")?.[1];
        return { name: pkg.name, floor, testedOn: manifest.devDependencies?.node };
      });
    expect(floors).toHaveLength(PUBLIC.length);
    for (const { name, floor, testedOn } of floors) {
      expect({ name, floor }).toEqual({ name, floor: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
      expect({ name, testedOn }).toEqual({ name, testedOn: floor });
    }
    expect(new Set(floors.map((f) => f.floor)).size).toBe(1);
  });
});

describe("which packages a release publishes", () => {
  it("is exactly the seven public packages", () => {
    expect(reports.map((report) => report.name).sort()).toEqual(PUBLIC);
  });

  it("never a tools/, examples/ or test-e2e package", () => {
    const privateDirs = workspace
      .filter((pkg) => /\/(tools|examples)\/|\/test-e2e$/.test(pkg.dir))
      .map((pkg) => `${pkg.name} (${pkg.dir}) private=${pkg.private}`);
    expect(privateDirs.length).toBeGreaterThan(0);
    for (const line of privateDirs) expect(line, "must be marked private").toMatch(/private=true$/);
  });
});

describe.each(reports.map((report) => [report.name, report] as const))("%s tarball", (_name, report) => {
  it("passes publint", () => {
    expect(messages(report, "publint"), "publint errors and warnings").toEqual([]);
  });

  it("has types that resolve for ESM consumers (node16 and bundler), or is a command with nothing to import", () => {
    expect(messages(report, "types"), "type resolution problems").toEqual([]);
    if (COMMAND_ONLY.includes(report.name)) {
      expect(report.typeResolutions["."], "an import of the package root").toBeUndefined();
      expect(report.manifest.exports).toEqual({ "./package.json": "./package.json" });
      expect(report.bins.length).toBeGreaterThan(0);
      return;
    }
    expect(report.typeResolutions["."]?.["node16-esm"], "node16 ESM import of the package root").toBe(
      "dist/index.d.ts",
    );
    expect(report.typeResolutions["."]?.bundler, "bundler import of the package root").toBe(
      "dist/index.d.ts",
    );
  });

  it("contains no test files, source maps, test data or build configuration", () => {
    expect(messages(report, "files"), "files that must not be published").toEqual([]);
    expect(report.files.filter((file) => /\.test\.|\.map$|testdata/.test(file))).toEqual([]);
    expect(report.files).toContain("package.json");
    expect(report.files).toContain(COMMAND_ONLY.includes(report.name) ? "dist/cli.js" : "dist/index.js");
  });

  it("depends on the other packages by their real versions, not workspace:*", () => {
    expect(messages(report, "dependencies")).toEqual([]);
    expect(JSON.stringify(report.manifest), "packed package.json").not.toContain("workspace:");
    const deps = (report.manifest.dependencies ?? {}) as Record<string, string>;
    for (const [dep, range] of Object.entries(deps)) {
      const local = workspaceVersions.get(dep);
      if (local !== undefined) expect(range, `dependencies.${dep}`).toBe(local);
    }
  });

  it("ships every bin with a node shebang", () => {
    expect(messages(report, "bin")).toEqual([]);
    const bin = (report.manifest.bin ?? {}) as Record<string, string>;
    for (const target of Object.values(bin)) expect(report.files).toContain(target.replace(/^\.\//, ""));
  });

  it("has the metadata npm provenance and the npm page need", () => {
    expect(messages(report, "metadata")).toEqual([]);
    expect(report.manifest.repository).toMatchObject({
      type: "git",
      url: "git+https://github.com/kubelet-credential-providers/kubelet-credential-providers.git",
    });
    expect(report.manifest.publishConfig).toEqual({ access: "public", provenance: true });
  });

  it("is accepted by npm publish --dry-run", () => {
    expect(messages(report, "npm-publish")).toEqual([]);
    expect(report.publishDryRun).toMatch(/^ok: /);
  });
});

describe("a broken package", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("is flagged by every check", async () => {
    const dir = await mkdtemp(join(tmpdir(), "release-broken-"));
    dirs.push(dir);
    const pkgDir = join(dir, "broken");
    await mkdir(join(pkgDir, "dist"), { recursive: true });
    await mkdir(join(pkgDir, "testdata"), { recursive: true });
    await writeFile(
      join(pkgDir, "package.json"),
      JSON.stringify({
        name: "@kubelet-credential-provider/broken",
        version: "1.0.0",
        type: "module",
        // exports point at files that were never built: JavaScript for ".", types for "./extra"
        exports: {
          ".": { types: "./dist/index.d.ts", default: "./dist/missing.js" },
          "./extra": { types: "./dist/extra.d.ts", default: "./dist/cli.js" },
        },
        bin: { "broken-provider": "./dist/cli.js", "ghost-provider": "./dist/ghost.js" },
        files: ["dist", "testdata"],
        dependencies: { "@kubelet-credential-provider/core": "workspace:*" },
      }),
    );
    await writeFile(join(pkgDir, "dist/index.d.ts"), "export declare const x: number;\n");
    await writeFile(join(pkgDir, "dist/cli.js"), "console.log('no shebang');\n");
    await writeFile(join(pkgDir, "dist/index.test.js"), "export {};\n");
    await writeFile(join(pkgDir, "dist/index.js.map"), "{}\n");
    await writeFile(join(pkgDir, "testdata/secret.json"), "{}\n");
    // npm pack, unlike pnpm pack, leaves workspace:* as it is: what a publish with the wrong tool does.
    const { stdout } = await run(
      "npm",
      ["pack", "--json", "--offline", "--ignore-scripts", "--pack-destination", dir],
      { cwd: pkgDir },
    );
    const packed = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
    const tarball = resolve(dir, packed[0]?.filename ?? "");

    const report = await checkTarball(tarball, { workspaceVersions, npmDryRun: false });
    const all = report.findings.map((finding) => `${finding.check}: ${finding.message}`);

    expect(all).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^publint: .*\[FILE_DOES_NOT_EXIST\]/),
        "types: resolves to JavaScript without types: ./extra (node16-esm) [UntypedResolution]",
        "types: resolves to JavaScript without types: ./extra (bundler) [UntypedResolution]",
        "files: test file in the tarball: dist/index.test.js",
        "files: source map in the tarball: dist/index.js.map",
        "files: test data in the tarball: testdata/secret.json",
        'dependencies: dependencies.@kubelet-credential-provider/core is "workspace:*": pack did not rewrite it to a registry version',
        'bin: bin "broken-provider" (./dist/cli.js) does not start with "#!/usr/bin/env node"',
        'bin: bin "ghost-provider" points at ./dist/ghost.js, which is not in the tarball',
        "metadata: no repository.url (npm provenance requires it)",
        "metadata: publishConfig.provenance is not true",
        "metadata: no README.md (the package's npm page would be empty)",
      ]),
    );
  });

  it("is flagged when an internal dependency is pinned to a version the workspace does not release", async () => {
    const dir = await mkdtemp(join(tmpdir(), "release-stale-"));
    dirs.push(dir);
    const pkgDir = join(dir, "stale");
    await mkdir(join(pkgDir, "dist"), { recursive: true });
    await writeFile(
      join(pkgDir, "package.json"),
      JSON.stringify({
        name: "@kubelet-credential-provider/stale",
        version: "1.0.0",
        type: "module",
        exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
        dependencies: { "@kubelet-credential-provider/core": "0.0.1-stale" },
      }),
    );
    await writeFile(join(pkgDir, "dist/index.d.ts"), "export declare const x: number;\n");
    await writeFile(join(pkgDir, "dist/index.js"), "export const x = 1;\n");
    const { stdout } = await run(
      "npm",
      ["pack", "--json", "--offline", "--ignore-scripts", "--pack-destination", dir],
      { cwd: pkgDir },
    );
    const packed = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
    const report = await checkTarball(resolve(dir, packed[0]?.filename ?? ""), {
      workspaceVersions,
      npmDryRun: false,
    });
    expect(report.findings).toContainEqual({
      check: "dependencies",
      message: `dependencies.@kubelet-credential-provider/core is "0.0.1-stale" but the workspace releases @kubelet-credential-provider/core@${workspaceVersions.get("@kubelet-credential-provider/core")}`,
    });
    // and nothing else is wrong with it but the metadata
    expect(report.findings.filter((f) => f.check !== "dependencies" && f.check !== "metadata")).toEqual([]);
  });
});
