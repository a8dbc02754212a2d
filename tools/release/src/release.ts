// The release workflow's two steps that changesets does not do for us:
// - publish: every public package whose version is not on npm yet is packed, checked, published with
//   npm (trusted publishing and provenance need npm >= 11.5.1) and tagged `<name>@<version>`, the
//   changesets tag convention;
// - github-release: one GitHub release per published package, named after its tag, with the
//   package's release binaries, the simulator's (kubelet-credential-sim, which the node installer
//   uses to merge the kubelet's config, ships with every provider) and a SHA256SUMS of just those.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { assetName, RELEASE_TARGETS } from "../../../packages/build/src/targets.ts";
import { checkTarball, listWorkspacePackages, packPackage, repoRoot, type WorkspacePackage } from "./pack.ts";

const run = promisify(execFile);

/** The changesets tag of a package version: `@kubelet-credential-provider/ecr@0.2.0`. */
export function releaseTag(pkg: { name: string; version: string }): string {
  return `${pkg.name}@${pkg.version}`;
}

export function parseReleaseTag(tag: string): { name: string; version: string } {
  const at = tag.lastIndexOf("@");
  if (at <= 0) throw new Error(`not a <name>@<version> tag: ${tag}`);
  return { name: tag.slice(0, at), version: tag.slice(at + 1) };
}

/** Dependencies first, so that a package is never on npm before a version it depends on. */
export function publishOrder(packages: WorkspacePackage[]): WorkspacePackage[] {
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const ordered: WorkspacePackage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (pkg: WorkspacePackage): void => {
    if (state.get(pkg.name) === "done") return;
    if (state.get(pkg.name) === "visiting") throw new Error(`dependency cycle through ${pkg.name}`);
    state.set(pkg.name, "visiting");
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const dep of Object.keys((pkg.manifest[field] ?? {}) as Record<string, string>)) {
        const internal = byName.get(dep);
        if (internal) visit(internal);
      }
    }
    state.set(pkg.name, "done");
    ordered.push(pkg);
  };
  for (const pkg of [...packages].sort((a, b) => a.name.localeCompare(b.name))) visit(pkg);
  return ordered;
}

/** Whether `name@version` is on the registry (`npm view`; a 404 means not). */
export async function isPublished(name: string, version: string): Promise<boolean> {
  try {
    const { stdout } = await run("npm", ["view", `${name}@${version}`, "version", "--json"]);
    return stdout.trim() !== "";
  } catch (error) {
    const text = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`;
    if (/E404|404 Not Found|is not in this registry/.test(text)) return false;
    throw error;
  }
}

export interface PublishOptions {
  root?: string;
  dryRun?: boolean;
  /**
   * Publish with npm provenance (default): needs the CI's OIDC identity. Off for a registry or a
   * machine without one (the release rehearsal's local registry).
   */
  provenance?: boolean;
  /** Injected in tests. */
  isPublished?: (name: string, version: string) => Promise<boolean>;
  log?: (line: string) => void;
}

/** Publish what is not on npm yet; returns the tags of what was published. */
export async function publishUnpublished(options: PublishOptions = {}): Promise<string[]> {
  const root = options.root ?? repoRoot;
  const log = options.log ?? ((line: string) => console.log(line));
  const published = options.isPublished ?? isPublished;
  const all = await listWorkspacePackages(root);
  const workspaceVersions = new Map(all.map((pkg) => [pkg.name, pkg.version]));
  const destination = await mkdtemp(join(tmpdir(), "release-publish-"));
  const tags: string[] = [];
  try {
    for (const pkg of publishOrder(all.filter((p) => !p.private))) {
      const tag = releaseTag(pkg);
      if (await published(pkg.name, pkg.version)) {
        log(`${tag} is already on npm`);
        continue;
      }
      const tarball = await packPackage(pkg.dir, destination, root);
      const report = await checkTarball(tarball, { dir: pkg.dir, workspaceVersions });
      if (report.findings.length > 0) {
        throw new Error(
          `refusing to publish ${tag}:\n${report.findings.map((f) => `  ${f.check}: ${f.message}`).join("\n")}`,
        );
      }
      const args = ["publish", tarball, "--access", "public", "--tag", "latest"];
      args.push(options.provenance === false ? "--provenance=false" : "--provenance");
      if (options.dryRun) args.push("--dry-run");
      log(`npm ${args.join(" ")}`);
      await run("npm", args, { cwd: pkg.dir, maxBuffer: 64 * 1024 * 1024 });
      if (!options.dryRun) await run("git", ["tag", tag], { cwd: root });
      log(`New tag: ${tag}`);
      tags.push(tag);
    }
    if (tags.length > 0 && !options.dryRun) {
      await run("git", ["push", "origin", ...tags.map((tag) => `refs/tags/${tag}`)], { cwd: root });
    }
    return tags;
  } finally {
    await rm(destination, { recursive: true, force: true });
  }
}

/** Lines of a `sha256sum` file: `<hex>  <name>` (text mode) or `<hex> *<name>` (binary mode). */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (!match?.[1] || !match[2]) throw new Error(`not a sha256sum line: ${line}`);
    sums.set(match[2].replace(/^.*\//, ""), match[1]);
  }
  return sums;
}

/** The section of a changesets CHANGELOG.md for `version` (`## 0.2.0` up to the next `## `). */
export function changelogSection(changelog: string, version: string): string | undefined {
  const lines = changelog.split("\n");
  const start = lines.findIndex((line) => line.trim() === `## ${version}`);
  if (start === -1) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^## /.test(line));
  return (end === -1 ? rest : rest.slice(0, end)).join("\n").trim();
}

export interface ReleasePlan {
  tag: string;
  title: string;
  notesFile: string;
  /** Absolute paths of the assets to attach; empty for a package without an executable. */
  assets: string[];
}

/**
 * The executables that ship with every release that has executables: those of the packages whose
 * package.json says `"standalone": {"releaseWithProviders": true}`, sorted.
 */
export function companionBins(packages: readonly WorkspacePackage[]): string[] {
  const shipsWithProviders = (pkg: WorkspacePackage) =>
    (pkg.manifest.standalone as { releaseWithProviders?: unknown } | undefined)?.releaseWithProviders ===
    true;
  return packages
    .filter(shipsWithProviders)
    .flatMap((pkg) => Object.keys(pkg.bin))
    .sort();
}

/**
 * Prepare one GitHub release per tag in `outDir/<n>/`: the package's binaries and, for a package
 * with binaries, the companion ones ({@link companionBins}), copied from `distDir` (checked against
 * `distDir/SHA256SUMS`), a SHA256SUMS of just those, and the notes.
 */
export async function prepareReleases(options: {
  tags: string[];
  distDir: string;
  outDir: string;
  root?: string;
}): Promise<ReleasePlan[]> {
  const packages = await listWorkspacePackages(options.root ?? repoRoot);
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const companions = companionBins(packages);
  let sums: Map<string, string> | undefined;
  const plans: ReleasePlan[] = [];
  for (const [index, tag] of options.tags.entries()) {
    const { name, version } = parseReleaseTag(tag);
    const pkg = byName.get(name);
    if (!pkg) throw new Error(`${tag}: no workspace package ${name}`);
    if (pkg.version !== version) throw new Error(`${tag}: the workspace has ${name}@${pkg.version}`);
    const dir = join(options.outDir, String(index));
    await mkdir(dir, { recursive: true });
    const changelog = await readFile(join(pkg.dir, "CHANGELOG.md"), "utf8").catch(() => "");
    const notes = changelogSection(changelog, version) ?? `${tag}`;
    const notesFile = join(dir, "NOTES.md");
    await writeFile(notesFile, `${notes}\n`);
    const assets: string[] = [];
    // A package whose bins are Node tools (`"standalone": false`: the build package's kcp-build) has
    // no executables, like a library.
    const own = pkg.manifest.standalone === false ? [] : Object.keys(pkg.bin).sort();
    const bins = own.length === 0 ? [] : [...own, ...companions.filter((bin) => !own.includes(bin))];
    if (bins.length > 0) {
      sums ??= parseSha256Sums(await readFile(join(options.distDir, "SHA256SUMS"), "utf8"));
      const lines: string[] = [];
      for (const bin of bins) {
        // Every platform of the build's release targets: `B-linux-amd64`, ..., `B-windows-amd64.exe`.
        for (const target of RELEASE_TARGETS) {
          const file = assetName(bin, target);
          const expected = sums.get(file);
          if (!expected) throw new Error(`${tag}: ${file} is not in ${options.distDir}/SHA256SUMS`);
          const content = await readFile(join(options.distDir, file)).catch(() => {
            throw new Error(`${tag}: ${options.distDir}/${file} does not exist`);
          });
          const actual = createHash("sha256").update(content).digest("hex");
          if (actual !== expected) throw new Error(`${tag}: ${file} does not match its SHA256SUMS line`);
          await copyFile(join(options.distDir, file), join(dir, file));
          assets.push(join(dir, file));
          lines.push(`${actual}  ${file}`);
        }
      }
      await writeFile(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
      assets.push(join(dir, "SHA256SUMS"));
    }
    plans.push({ tag, title: tag, notesFile, assets });
  }
  return plans;
}

/** Create (or, when it exists, add to) each GitHub release with `gh`, which reads GH_TOKEN. */
export async function publishGithubReleases(
  plans: ReleasePlan[],
  options: { dryRun?: boolean; log?: (line: string) => void } = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  for (const plan of plans) {
    const exists =
      options.dryRun === true
        ? false
        : await run("gh", ["release", "view", plan.tag, "--json", "tagName"]).then(
            () => true,
            () => false,
          );
    const args = exists
      ? ["release", "upload", plan.tag, ...plan.assets, "--clobber"]
      : [
          "release",
          "create",
          plan.tag,
          ...plan.assets,
          "--verify-tag",
          "--title",
          plan.title,
          "--notes-file",
          plan.notesFile,
          ...(parseReleaseTag(plan.tag).version.includes("-") ? ["--prerelease"] : []),
        ];
    if (exists && plan.assets.length === 0) continue;
    log(`gh ${args.join(" ")}`);
    if (!options.dryRun) await run("gh", args);
  }
}

/** Set a step output when running in GitHub Actions. */
export async function setOutput(name: string, value: string): Promise<void> {
  const file = process.env.GITHUB_OUTPUT;
  if (file) await appendFile(file, `${name}=${value}\n`);
}
