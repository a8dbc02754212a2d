// What a release would publish, checked before it is published: every public workspace package is
// packed with pnpm (exactly as `pnpm publish` packs it: `workspace:*` rewritten, `files` applied)
// and the tarball, not the source tree, is checked.
//
// The packages' dist/ must already be built (the root `pnpm test` builds first).

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Problem as TypesProblem } from "@arethetypeswrong/core";
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const run = promisify(execFile);

export const repoRoot = resolve(import.meta.dirname, "../../..");

export interface WorkspacePackage {
  name: string;
  version: string;
  dir: string;
  private: boolean;
  bin: Record<string, string>;
  manifest: Record<string, unknown>;
}

/** A failed check: which check, and a message that says what to fix. */
export interface Finding {
  check: "publint" | "types" | "files" | "dependencies" | "bin" | "metadata" | "npm-publish";
  message: string;
}

export interface PackReport {
  name: string;
  version: string;
  dir: string;
  tarball: string;
  files: string[];
  bins: string[];
  /** The packed package.json (what npm will serve). */
  manifest: Record<string, unknown>;
  /** Where TypeScript resolves each entrypoint's types, per resolution mode (attw). */
  typeResolutions: Record<
    string,
    Partial<Record<"node16-esm" | "node16-cjs" | "bundler" | "node10", string>>
  >;
  /** Everything that must be fixed before publishing; empty when the package is fine. */
  findings: Finding[];
  /** publint suggestions: shown, never failing. */
  notes: string[];
  /** `npm publish --dry-run` output summary, or why it was not run. */
  publishDryRun: string;
}

/** Workspace packages, from pnpm-workspace.yaml's `packages:` globs (`dir/*` or a plain directory). */
export async function listWorkspacePackages(root = repoRoot): Promise<WorkspacePackage[]> {
  const yaml = await readFile(join(root, "pnpm-workspace.yaml"), "utf8");
  const globs: string[] = [];
  let inPackages = false;
  for (const line of yaml.split("\n")) {
    if (/^packages:\s*$/.test(line)) {
      inPackages = true;
      continue;
    }
    if (inPackages) {
      const item = /^\s+-\s+["']?([^"'#\s]+)["']?/.exec(line);
      if (item?.[1]) globs.push(item[1]);
      else if (/^\S/.test(line)) inPackages = false;
    }
  }
  const dirs: string[] = [];
  for (const glob of globs) {
    if (glob.endsWith("/*")) {
      const parent = join(root, glob.slice(0, -2));
      const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) if (entry.isDirectory()) dirs.push(join(parent, entry.name));
    } else {
      dirs.push(join(root, glob));
    }
  }
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs.sort()) {
    const text = await readFile(join(dir, "package.json"), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    packages.push(toWorkspacePackage(dir, JSON.parse(text) as Record<string, unknown>));
  }
  return packages;
}

export function toWorkspacePackage(dir: string, manifest: Record<string, unknown>): WorkspacePackage {
  const name = String(manifest.name);
  const rawBin = manifest.bin;
  const bin: Record<string, string> =
    typeof rawBin === "string"
      ? { [name.replace(/^@[^/]+\//, "")]: rawBin }
      : ((rawBin as Record<string, string> | undefined) ?? {});
  return {
    name,
    version: String(manifest.version),
    dir,
    private: manifest.private === true,
    bin,
    manifest,
  };
}

/** The packages a release publishes: every workspace package not marked `"private": true`. */
export async function listPublicPackages(root = repoRoot): Promise<WorkspacePackage[]> {
  return (await listWorkspacePackages(root)).filter((pkg) => !pkg.private);
}

/**
 * How to run this repo's pinned pnpm without touching the network: the pnpm that started us
 * (`pnpm test`, `pnpm exec`: npm_execpath), else a `pnpm` on PATH, else
 * `npx -y pnpm@<packageManager version>`.
 */
async function pnpmCommand(root: string): Promise<[string, string[]]> {
  const execpath = process.env.npm_execpath;
  if (execpath && /^pnpm(\.c?js)?$/.test(basename(execpath))) {
    return /\.c?js$/.test(execpath) ? [process.execPath, [execpath]] : [execpath, []];
  }
  const onPath = await run("pnpm", ["--version"]).then(
    () => true,
    () => false,
  );
  if (onPath) return ["pnpm", []];
  const rootManifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
    packageManager?: string;
  };
  return ["npx", ["-y", rootManifest.packageManager ?? "pnpm@12.21.0"]];
}

/** `pnpm pack` the package in `dir` into `destination`; returns the tarball's path. */
export async function packPackage(dir: string, destination: string, root = repoRoot): Promise<string> {
  const [command, prefix] = await pnpmCommand(root);
  const { stdout } = await run(command, [...prefix, "pack", "--pack-destination", destination, "--json"], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
  });
  const json = JSON.parse(stdout.slice(stdout.indexOf("{"))) as { filename?: string };
  if (!json.filename) throw new Error(`pnpm pack in ${dir} printed no tarball name`);
  return resolve(destination, json.filename);
}

// Type resolution problems that are expected for these packages and so not reported:
// - CJSResolvesToESM: the packages are ESM only ("type": "module", exports with only `types` and
//   `default`). A CommonJS `require()` under node16 resolves to ESM; that is the design, and Node 22+
//   (our engines floor) can require() ESM anyway.
// - anything under the `node10` resolution: node10 (moduleResolution "node") ignores `exports`, and
//   the packages deliberately have no top-level `main`/`types`; TypeScript users need node16,
//   nodenext or bundler resolution, which every TypeScript 5 project can use.
const IGNORED_TYPE_PROBLEMS = new Set<TypesProblem["kind"]>(["CJSResolvesToESM"]);

function describeTypesProblem(problem: TypesProblem): string {
  const where =
    "entrypoint" in problem
      ? `${problem.entrypoint} (${problem.resolutionKind})`
      : "typesFileName" in problem
        ? `${problem.typesFileName} / ${problem.implementationFileName}`
        : "fileName" in problem
          ? problem.fileName
          : "";
  const what: Record<TypesProblem["kind"], string> = {
    NoResolution: "does not resolve",
    UntypedResolution: "resolves to JavaScript without types",
    FalseESM: "types say ESM, the JavaScript is CommonJS",
    FalseCJS: "types say CommonJS, the JavaScript is ESM",
    CJSResolvesToESM: "require() resolves to an ES module",
    NamedExports: "types declare named exports the JavaScript does not have",
    FallbackCondition: "resolved through a fallback condition",
    FalseExportDefault: "types declare a default export the JavaScript does not have",
    MissingExportEquals: "types miss `export =`",
    InternalResolutionError: "an import inside the types does not resolve",
    UnexpectedModuleSyntax: "module syntax does not match the file's format",
    CJSOnlyExportsDefault: "a CommonJS module exports only a default",
  };
  return `${what[problem.kind]}: ${where} [${problem.kind}]`;
}

export function isIgnoredTypesProblem(problem: TypesProblem): boolean {
  if (IGNORED_TYPE_PROBLEMS.has(problem.kind)) return true;
  return "resolutionKind" in problem && problem.resolutionKind === "node10";
}

const DEPENDENCY_FIELDS = ["dependencies", "optionalDependencies", "peerDependencies", "devDependencies"];

/**
 * Check one tarball. `workspaceVersions` maps every workspace package name to its version, so that
 * internal dependencies can be checked against the version being released.
 */
export async function checkTarball(
  tarball: string,
  options: { dir?: string; workspaceVersions: Map<string, string>; npmDryRun?: boolean },
): Promise<PackReport> {
  const data = new Uint8Array(await readFile(tarball));
  const findings: Finding[] = [];
  const notes: string[] = [];

  // The tarball, unpacked in memory (attw's reader); paths relative to the package root.
  const typesPackage = createPackageFromTarballData(data);
  const prefix = `/node_modules/${typesPackage.packageName}/`;
  const files = typesPackage
    .listFiles()
    .map((file) => (file.startsWith(prefix) ? file.slice(prefix.length) : file))
    .sort();
  const manifest = JSON.parse(typesPackage.readFile(`${prefix}package.json`)) as Record<string, unknown>;
  const pkg = toWorkspacePackage(options.dir ?? "", manifest);

  // publint, on the tarball itself.
  const lint = await publint({ pack: { tarball: data.slice().buffer }, level: "suggestion" });
  for (const message of lint.messages) {
    const text = `${formatMessage(message, lint.pkg, { color: false }) ?? message.code} [${message.code}]`;
    if (message.type === "suggestion") notes.push(text);
    else findings.push({ check: "publint", message: text });
  }

  // Types: every entrypoint resolves to types that match the JavaScript.
  const analysis = await checkPackage(typesPackage);
  const typeResolutions: PackReport["typeResolutions"] = {};
  if (analysis.types !== false) {
    for (const [entrypoint, info] of Object.entries(analysis.entrypoints)) {
      const resolved: PackReport["typeResolutions"][string] = {};
      for (const [kind, resolution] of Object.entries(info.resolutions)) {
        const fileName = resolution.resolution?.fileName;
        if (fileName) resolved[kind as keyof typeof resolved] = fileName.replace(prefix, "");
      }
      typeResolutions[entrypoint] = resolved;
    }
  }
  if (analysis.types === false) {
    findings.push({ check: "types", message: "the package ships no type declarations" });
  } else {
    for (const problem of analysis.problems) {
      if (!isIgnoredTypesProblem(problem)) {
        findings.push({ check: "types", message: describeTypesProblem(problem) });
      }
    }
  }

  // Files that must never be published.
  for (const file of files) {
    if (/(^|\/)[^/]*\.(test|spec)\.[cm]?[jt]sx?$/.test(file) || /(^|\/)__tests__\//.test(file)) {
      findings.push({ check: "files", message: `test file in the tarball: ${file}` });
    }
    if (/\.map$/.test(file)) findings.push({ check: "files", message: `source map in the tarball: ${file}` });
    if (/(^|\/)testdata\//.test(file))
      findings.push({ check: "files", message: `test data in the tarball: ${file}` });
    if (/(^|\/)tsconfig(\.[^/]*)?\.json$|\.tsbuildinfo$/.test(file)) {
      findings.push({ check: "files", message: `build configuration in the tarball: ${file}` });
    }
  }

  // Dependencies: `workspace:` rewritten to the real version of the workspace package.
  for (const field of DEPENDENCY_FIELDS) {
    const deps = (manifest[field] ?? {}) as Record<string, string>;
    for (const [dep, range] of Object.entries(deps)) {
      if (/^(workspace|link|file|portal):/.test(range)) {
        findings.push({
          check: "dependencies",
          message: `${field}.${dep} is "${range}": pack did not rewrite it to a registry version`,
        });
        continue;
      }
      const local = options.workspaceVersions.get(dep);
      if (local !== undefined && field !== "devDependencies" && range !== local) {
        findings.push({
          check: "dependencies",
          message: `${field}.${dep} is "${range}" but the workspace releases ${dep}@${local}`,
        });
      }
    }
  }

  // Executables: each bin file is in the tarball and starts with a node shebang.
  for (const [name, target] of Object.entries(pkg.bin)) {
    const path = target.replace(/^\.\//, "");
    const text = typesPackage.tryReadFile(`${prefix}${path}`);
    if (text === undefined) {
      findings.push({
        check: "bin",
        message: `bin "${name}" points at ${target}, which is not in the tarball`,
      });
    } else if (!text.startsWith("#!/usr/bin/env node\n")) {
      findings.push({
        check: "bin",
        message: `bin "${name}" (${target}) does not start with "#!/usr/bin/env node"`,
      });
    }
  }

  // What npm provenance and the npm page need.
  const repository = manifest.repository as { url?: string; directory?: string } | undefined;
  if (!repository?.url) {
    findings.push({ check: "metadata", message: "no repository.url (npm provenance requires it)" });
  }
  const publishConfig = manifest.publishConfig as { access?: string; provenance?: boolean } | undefined;
  if (publishConfig?.access !== "public") {
    findings.push({
      check: "metadata",
      message: 'publishConfig.access is not "public" (scoped packages default to restricted)',
    });
  }
  if (publishConfig?.provenance !== true) {
    findings.push({ check: "metadata", message: "publishConfig.provenance is not true" });
  }
  for (const field of ["license", "description", "homepage", "bugs"]) {
    if (!manifest[field]) findings.push({ check: "metadata", message: `no ${field}` });
  }
  if (!files.some((file) => /^README\.md$/i.test(file))) {
    findings.push({ check: "metadata", message: "no README.md (the package's npm page would be empty)" });
  }

  const publishDryRun = options.npmDryRun === false ? "not run" : await npmPublishDryRun(tarball, findings);

  return {
    name: pkg.name,
    version: pkg.version,
    dir: options.dir ?? "",
    tarball,
    files,
    bins: Object.keys(pkg.bin),
    manifest,
    typeResolutions,
    findings,
    notes,
    publishDryRun,
  };
}

/**
 * `npm publish --dry-run` on the tarball: npm's own validation of the manifest and contents.
 *
 * It runs with `--offline` against a loopback registry that does not exist, so it never leaves the
 * machine and needs no login: a dry run does not authenticate, and `--offline` stops npm from
 * fetching anything. What it cannot check offline is whether the version is already on the registry
 * and whether the trusted publisher is set up; the release workflow finds out when it publishes.
 */
async function npmPublishDryRun(tarball: string, findings: Finding[]): Promise<string> {
  try {
    const { stdout } = await run(
      "npm",
      [
        "publish",
        tarball,
        "--dry-run",
        "--offline",
        "--json",
        "--registry",
        "http://127.0.0.1:9/",
        "--ignore-scripts",
      ],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_provenance: "false" } },
    );
    const json = JSON.parse(stdout.slice(stdout.indexOf("{"))) as Record<
      string,
      { id?: string; entryCount?: number; unpackedSize?: number; files?: unknown[] }
    >;
    const result = Object.values(json)[0] ?? (json as unknown as { id?: string; files?: unknown[] });
    return `ok: ${result.id ?? "?"}, ${result.files?.length ?? "?"} files`;
  } catch (error) {
    const err = error as { stderr?: string; message: string };
    const detail = (err.stderr ?? err.message)
      .split("\n")
      .filter((line) => /npm error/.test(line))
      .join(" ")
      .trim();
    findings.push({
      check: "npm-publish",
      message: `npm publish --dry-run failed: ${detail || err.message}`,
    });
    return "failed";
  }
}

/** Pack and check every public workspace package. Temp files are removed unless `keepDir` is given. */
export async function checkAllPackages(
  options: { root?: string; keepDir?: string; npmDryRun?: boolean } = {},
): Promise<PackReport[]> {
  const root = options.root ?? repoRoot;
  const all = await listWorkspacePackages(root);
  const workspaceVersions = new Map(all.map((pkg) => [pkg.name, pkg.version]));
  const destination = options.keepDir ?? (await mkdtemp(join(tmpdir(), "release-pack-")));
  try {
    const reports: PackReport[] = [];
    for (const pkg of all.filter((p) => !p.private)) {
      const tarball = await packPackage(pkg.dir, destination, root);
      const checkOptions: { dir: string; workspaceVersions: Map<string, string>; npmDryRun?: boolean } = {
        dir: pkg.dir,
        workspaceVersions,
      };
      if (options.npmDryRun !== undefined) checkOptions.npmDryRun = options.npmDryRun;
      reports.push(await checkTarball(tarball, checkOptions));
    }
    return reports;
  } finally {
    if (!options.keepDir) await rm(destination, { recursive: true, force: true });
  }
}

export function formatReport(reports: PackReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const status = report.findings.length === 0 ? "ok" : `${report.findings.length} problem(s)`;
    lines.push(`${report.name}@${report.version}: ${status}`);
    lines.push(
      `  ${report.files.length} files${report.bins.length ? `, bin: ${report.bins.join(", ")}` : ""}`,
    );
    lines.push(`  npm publish --dry-run: ${report.publishDryRun}`);
    for (const finding of report.findings) lines.push(`  ✗ ${finding.check}: ${finding.message}`);
    for (const note of report.notes) lines.push(`  · publint suggestion: ${note}`);
  }
  return lines.join("\n");
}
