// The pieces of the release workflow that run without npm or GitHub: publish order, tags, the
// per-release assets and their SHA256SUMS, release notes.

import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listPublicPackages, listWorkspacePackages, toWorkspacePackage } from "./pack.ts";
import {
  changelogSection,
  companionBins,
  parseReleaseTag,
  parseSha256Sums,
  prepareReleases,
  publishGithubReleases,
  publishOrder,
  publishUnpublished,
  releaseTag,
} from "./release.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("tags", () => {
  it("are the changesets tags, <name>@<version>, and parse back", () => {
    expect(releaseTag({ name: "@kubelet-credential-provider/ecr", version: "0.2.0" })).toBe(
      "@kubelet-credential-provider/ecr@0.2.0",
    );
    expect(parseReleaseTag("@kubelet-credential-provider/ecr@0.2.0-rc.1")).toEqual({
      name: "@kubelet-credential-provider/ecr",
      version: "0.2.0-rc.1",
    });
    expect(() => parseReleaseTag("v1.0.0")).toThrow(/not a <name>@<version> tag/);
  });
});

describe("publish order", () => {
  it("puts core before the packages that depend on it", async () => {
    const order = publishOrder(await listPublicPackages()).map((pkg) => pkg.name);
    expect(order[0]).toBe("@kubelet-credential-provider/core");
    expect(order.slice(1).sort()).toEqual([
      "@kubelet-credential-provider/acr",
      "@kubelet-credential-provider/build",
      "@kubelet-credential-provider/config",
      "@kubelet-credential-provider/ecr",
      "@kubelet-credential-provider/gcp",
      "@kubelet-credential-provider/kubelet-sim",
    ]);
    // The simulator after the config package it is built on.
    expect(order.indexOf("@kubelet-credential-provider/config")).toBeLessThan(
      order.indexOf("@kubelet-credential-provider/kubelet-sim"),
    );
  });

  it("refuses a dependency cycle", () => {
    const a = toWorkspacePackage("/a", { name: "a", version: "1.0.0", dependencies: { b: "1.0.0" } });
    const b = toWorkspacePackage("/b", { name: "b", version: "1.0.0", dependencies: { a: "1.0.0" } });
    expect(() => publishOrder([a, b])).toThrow(/dependency cycle/);
  });

  it("publishes nothing, and tags nothing, when every version is already on npm", async () => {
    const asked: string[] = [];
    const tags = await publishUnpublished({
      isPublished: async (name, version) => {
        asked.push(`${name}@${version}`);
        return true;
      },
      log: () => {},
    });
    expect(tags).toEqual([]);
    expect(asked.length).toBe(7);
  });
});

describe("sha256sum files", () => {
  it("parse in text and binary mode and refuse anything else", () => {
    const sums = parseSha256Sums(
      `${"a".repeat(64)}  ecr-credential-provider-linux-amd64\n${"b".repeat(64)} *dist/x\n`,
    );
    expect(sums.get("ecr-credential-provider-linux-amd64")).toBe("a".repeat(64));
    expect(sums.get("x")).toBe("b".repeat(64));
    expect(() => parseSha256Sums("nonsense\n")).toThrow(/not a sha256sum line/);
  });
});

describe("release notes", () => {
  it("are the version's section of the changesets CHANGELOG.md", () => {
    const changelog = "# @x/ecr\n\n## 0.3.0\n\n### Minor Changes\n\n- new\n\n## 0.2.0\n\n- old\n";
    expect(changelogSection(changelog, "0.3.0")).toBe("### Minor Changes\n\n- new");
    expect(changelogSection(changelog, "0.2.0")).toBe("- old");
    expect(changelogSection(changelog, "9.9.9")).toBeUndefined();
  });
});

describe("GitHub release assets", () => {
  async function fakeRelease() {
    const dir = await mkdtemp(join(tmpdir(), "release-assets-test-"));
    dirs.push(dir);
    const root = join(dir, "repo");
    await writeFile(join(dir, ".keep"), "");
    await mkdir(join(root, "packages/ecr"), { recursive: true });
    await mkdir(join(root, "packages/core"), { recursive: true });
    await mkdir(join(root, "packages/kubelet-sim"), { recursive: true });
    await mkdir(join(root, "packages/build"), { recursive: true });
    await writeFile(join(root, "pnpm-workspace.yaml"), "packages:\n  - packages/*\n  - tools/*\n");
    await writeFile(
      join(root, "packages/kubelet-sim/package.json"),
      JSON.stringify({
        name: "@x/kubelet-sim",
        version: "0.1.0",
        bin: { "kubelet-credential-sim": "./dist/cli.js" },
        standalone: { releaseWithProviders: true },
      }),
    );
    await writeFile(
      join(root, "packages/build/package.json"),
      JSON.stringify({
        name: "@x/build",
        version: "0.1.0",
        bin: { "kcp-build": "./dist/cli.js" },
        standalone: false,
      }),
    );
    await writeFile(
      join(root, "packages/ecr/package.json"),
      JSON.stringify({
        name: "@x/ecr",
        version: "0.2.0",
        bin: { "ecr-credential-provider": "./dist/cli.js" },
      }),
    );
    await writeFile(join(root, "packages/ecr/CHANGELOG.md"), "# @x/ecr\n\n## 0.2.0\n\n- faster\n");
    await writeFile(
      join(root, "packages/core/package.json"),
      JSON.stringify({ name: "@x/core", version: "0.2.0" }),
    );
    const dist = join(dir, "dist");
    await mkdir(dist);
    const lines: string[] = [];
    for (const bin of ["ecr-credential-provider", "acr-credential-provider", "kubelet-credential-sim"]) {
      for (const file of [`${bin}-linux-amd64`, `${bin}-linux-arm64`, `${bin}-windows-amd64.exe`]) {
        await writeFile(join(dist, file), `binary ${file}`);
        lines.push(`${sha(`binary ${file}`)}  ${file}`);
      }
    }
    await writeFile(join(dist, "SHA256SUMS"), `${lines.join("\n")}\n`);
    return { dir, root, dist, out: join(dir, "out") };
  }

  it("are the package's binaries and the simulator's for linux amd64 and arm64 and windows amd64, and a SHA256SUMS of just those", async () => {
    const { root, dist, out } = await fakeRelease();
    const plans = await prepareReleases({
      tags: ["@x/ecr@0.2.0", "@x/core@0.2.0", "@x/build@0.1.0"],
      distDir: dist,
      outDir: out,
      root,
    });
    const [ecr, core, build] = plans;
    expect(ecr?.tag).toBe("@x/ecr@0.2.0");
    const binaries = ["ecr-credential-provider", "kubelet-credential-sim"].flatMap((bin) => [
      `${bin}-linux-amd64`,
      `${bin}-linux-arm64`,
      `${bin}-windows-amd64.exe`,
    ]);
    expect(ecr?.assets.map((asset) => basename(asset))).toEqual([...binaries, "SHA256SUMS"]);
    const sums = await readFile(ecr?.assets[binaries.length] ?? "", "utf8");
    expect(sums).toBe(binaries.map((file) => `${sha(`binary ${file}`)}  ${file}\n`).join(""));
    for (const asset of ecr?.assets.slice(0, binaries.length) ?? []) {
      expect(await readFile(asset, "utf8")).toBe(`binary ${basename(asset)}`);
    }
    expect(await readFile(ecr?.notesFile ?? "", "utf8")).toBe("- faster\n");
    // a library gets a release with its notes and no assets; so does a package of Node tools
    expect(core?.assets).toEqual([]);
    expect(build?.assets).toEqual([]);

    const commands: string[] = [];
    await publishGithubReleases(plans, { dryRun: true, log: (line) => commands.push(line) });
    expect(commands[0]).toMatch(
      /^gh release create @x\/ecr@0\.2\.0 \S+ecr-credential-provider-linux-amd64 \S+ecr-credential-provider-linux-arm64 \S+ecr-credential-provider-windows-amd64\.exe \S+kubelet-credential-sim-linux-amd64 \S+kubelet-credential-sim-linux-arm64 \S+kubelet-credential-sim-windows-amd64\.exe \S+SHA256SUMS --verify-tag --title @x\/ecr@0\.2\.0 --notes-file \S+NOTES\.md$/,
    );
    expect(commands[1]).toMatch(/^gh release create @x\/core@0\.2\.0 --verify-tag --title @x\/core@0\.2\.0 /);
  });

  it("refuses a binary that does not match SHA256SUMS, or is missing", async () => {
    const { root, dist, out } = await fakeRelease();
    await writeFile(join(dist, "ecr-credential-provider-linux-arm64"), "tampered");
    await expect(
      prepareReleases({ tags: ["@x/ecr@0.2.0"], distDir: dist, outDir: out, root }),
    ).rejects.toThrow("@x/ecr@0.2.0: ecr-credential-provider-linux-arm64 does not match its SHA256SUMS line");
    await writeFile(join(dist, "SHA256SUMS"), "");
    await expect(
      prepareReleases({ tags: ["@x/ecr@0.2.0"], distDir: dist, outDir: out, root }),
    ).rejects.toThrow(/ecr-credential-provider-linux-amd64 is not in .*SHA256SUMS/);
  });

  it("refuses a release whose simulator binary is missing or tampered with", async () => {
    const { root, dist, out } = await fakeRelease();
    await writeFile(join(dist, "kubelet-credential-sim-linux-amd64"), "tampered");
    await expect(
      prepareReleases({ tags: ["@x/ecr@0.2.0"], distDir: dist, outDir: out, root }),
    ).rejects.toThrow("@x/ecr@0.2.0: kubelet-credential-sim-linux-amd64 does not match its SHA256SUMS line");
    await writeFile(
      join(dist, "kubelet-credential-sim-linux-amd64"),
      "binary kubelet-credential-sim-linux-amd64",
    );
    const sums = await readFile(join(dist, "SHA256SUMS"), "utf8");
    await writeFile(join(dist, "SHA256SUMS"), sums.replace(/^.*kubelet-credential-sim-linux-arm64\n/m, ""));
    await expect(
      prepareReleases({ tags: ["@x/ecr@0.2.0"], distDir: dist, outDir: out, root }),
    ).rejects.toThrow(/kubelet-credential-sim-linux-arm64 is not in .*SHA256SUMS/);
  });

  it("ship kubelet-credential-sim with every provider of this repository", async () => {
    const packages = await listWorkspacePackages();
    expect(companionBins(packages)).toEqual(["kubelet-credential-sim"]);
    const withBinaries = packages.filter(
      (pkg) => !pkg.private && pkg.manifest.standalone !== false && Object.keys(pkg.bin).length > 0,
    );
    expect(withBinaries.map((pkg) => pkg.name).sort()).toEqual([
      "@kubelet-credential-provider/acr",
      "@kubelet-credential-provider/ecr",
      "@kubelet-credential-provider/gcp",
      "@kubelet-credential-provider/kubelet-sim",
    ]);
  });

  it("refuses a tag whose version is not the workspace's", async () => {
    const { root, dist, out } = await fakeRelease();
    await expect(
      prepareReleases({ tags: ["@x/ecr@0.1.0"], distDir: dist, outDir: out, root }),
    ).rejects.toThrow("@x/ecr@0.1.0: the workspace has @x/ecr@0.2.0");
  });
});
