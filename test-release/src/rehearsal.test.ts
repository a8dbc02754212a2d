/**
 * The release rehearsal: the whole path a maintainer takes, minus the internet.
 *
 * On a scratch copy of this work tree (a git repository of its own, with an origin): a changeset
 * for every public package, `changeset version`, the commit, `pnpm build:release`'s build (the
 * packages, and the executables for every architecture this machine can run), and the release
 * tool's `publish` (the pack checks, then `npm publish` of each package, then the tags, pushed) to
 * a real npm registry on loopback (Verdaccio). Then, as a user: in an empty directory outside the
 * workspace, `npm install` of each provider from that registry, its `bin` run on the lowest Node
 * the packages support against the cloud emulator; as a node: the release assets served over
 * HTTPS on loopback, installed by install.sh into a bin dir and a kubelet config; and as a vendor:
 * docs/writing-a-provider.md, every file and command of it, from an empty directory.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Emulator, NodeSetup } from "@kubelet-credential-provider/cloud-emulator";
import { nodeSetups, startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assetName, buildCommit, RELEASE_TARGETS, runnerFor } from "../../packages/build/src/index.ts";
import { listWorkspacePackages, type WorkspacePackage } from "../../tools/release/src/pack.ts";
import { type Mirror, productionClosure, type Registry, startMirror, startVerdaccio } from "./registry.ts";
import { recordSummary } from "./summary.ts";
import { walkthroughScript, walkthroughSteps } from "./walkthrough.ts";
import { git, repoRoot, run, type Scratch, scratchCopy } from "./workspace.ts";

const SCOPE = "@kubelet-credential-provider/";
const PROVIDERS = [
  { pkg: `${SCOPE}ecr`, bin: "ecr-credential-provider", short: "ecr" },
  { pkg: `${SCOPE}acr`, bin: "acr-credential-provider", short: "acr" },
  { pkg: `${SCOPE}gcp`, bin: "auth-provider-gcp", short: "gcp" },
] as const;
const ARCH = process.arch === "arm64" ? "arm64" : "amd64";
/** KEEP_REHEARSAL=1 leaves the scratch copy and the users' directories in place, to look into. */
const keep = process.env.KEEP_REHEARSAL === "1";

/** The lowest Node the packages support: the core package's own `node`, which its tests run on. */
const floorNode = realpathSync(join(repoRoot, "packages/core/node_modules/.bin/node"));
const floorVersion = execFileSync(floorNode, ["--version"], { encoding: "utf8" }).trim();

interface Manifest {
  name: string;
  version: string;
}

const work = mkdtempSync(join(tmpdir(), "kcp-rehearsal-"));
let scratch: Scratch;
let mirror: Mirror | undefined;
let registry: Registry | undefined;
let emulator: Emulator | undefined;
let publicPackages: WorkspacePackage[] = [];
/** The commit the build named (tools/build's rule), which `--version` must print. */
let releaseCommit = "";
const before = new Map<string, string>();
let published: string[] = [];

/** The repo's scripts run on its Node 24 (the root `node` devDependency), as `pnpm` runs them. */
const scriptEnv = () => ({
  ...process.env,
  PATH: `${join(scratch.dir, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
});
/** npm's settings: the local registry, a cache of its own, no notices. */
const npmConfig = (cache: string) => ({
  NPM_CONFIG_USERCONFIG: registry?.npmrc ?? "",
  NPM_CONFIG_CACHE: join(work, cache),
  NPM_CONFIG_UPDATE_NOTIFIER: "false",
  NPM_CONFIG_AUDIT: "false",
  NPM_CONFIG_FUND: "false",
});
/** npm, pointed at the local registry, with a cache of its own. */
const npmEnv = (cache: string) => ({ ...process.env, ...npmConfig(cache) });

beforeAll(async () => {
  scratch = await scratchCopy(work);
  publicPackages = (await listWorkspacePackages(scratch.dir)).filter((m) => !m.private);
  for (const m of publicPackages) before.set(m.name, m.version);

  // 1. What a release PR does: a changeset per package, `changeset version`, the commit.
  writeFileSync(
    join(scratch.dir, ".changeset", "release-rehearsal.md"),
    `---\n${publicPackages.map((m) => `"${m.name}": patch`).join("\n")}\n---\n\nThe release rehearsal.\n`,
  );
  await run("changeset", ["version"], { cwd: scratch.dir, env: scriptEnv() });
  git(scratch.dir, "add", "-A");
  git(scratch.dir, "commit", "--quiet", "-m", "Version packages");
  for (const m of publicPackages) {
    m.version = (JSON.parse(readFileSync(join(m.dir, "package.json"), "utf8")) as Manifest).version;
  }

  // 2. The build, as the release workflow runs it.
  await run("node", ["tools/build/src/cli.ts", "--release=auto"], { cwd: scratch.dir, env: scriptEnv() });
  releaseCommit = buildCommit(scratch.dir);

  // 3. The registry, and the release tool's publish to it.
  // What the walkthrough installs beside our packages: TypeScript and Node's types.
  const devTools = ["typescript", "@types/node"].map((name) =>
    join(repoRoot, "packages/build/node_modules", name),
  );
  const closure = productionClosure(
    publicPackages.map((m) => m.dir),
    (name) => name.startsWith(SCOPE),
    devTools,
  );
  mirror = await startMirror(closure, work);
  registry = await startVerdaccio(mirror.url, work);
  const publish = await run("node", ["tools/release/src/cli.ts", "publish", "--no-provenance"], {
    cwd: scratch.dir,
    env: { ...scriptEnv(), ...npmEnv("npm-cache-publish") },
  });
  published = /published: (.*)/.exec(publish.stdout)?.[1]?.split(", ") ?? [];

  emulator = await startEmulator();
}, 1_200_000);

afterAll(async () => {
  await emulator?.close();
  await registry?.close();
  await mirror?.close();
  if (!keep) rmSync(work, { recursive: true, force: true });
});

describe("a maintainer's release", () => {
  it("bumps every public package once, dependents' ranges with them", () => {
    expect(publicPackages.map((m) => m.name).sort()).toEqual(
      ["acr", "build", "config", "core", "ecr", "gcp", "kubelet-sim"].map((name) => `${SCOPE}${name}`),
    );
    for (const m of publicPackages) {
      const [major, minor, patch] = (before.get(m.name) ?? "").split(".").map(Number);
      expect(m.version, m.name).toBe(`${major}.${minor}.${(patch ?? 0) + 1}`);
      expect(readFileSync(join(m.dir, "CHANGELOG.md"), "utf8")).toContain(`## ${m.version}`);
    }
  });

  it("publishes every public package to the registry and pushes a tag for each", async () => {
    const tags = publicPackages.map((m) => `${m.name}@${m.version}`).sort();
    expect([...published].sort()).toEqual(tags);
    const pushed = git(scratch.dir, "ls-remote", "--tags", "origin")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.replace(/^.*refs\/tags\//, ""))
      .sort();
    expect(pushed).toEqual(tags);
    for (const m of publicPackages) {
      const view = await run("npm", ["view", `${m.name}@${m.version}`, "version"], {
        cwd: work,
        env: npmEnv("npm-cache-view"),
      });
      expect(view.stdout.trim()).toBe(m.version);
    }
  });

  it("builds the release binaries with the new versions and the release commit", () => {
    const sums = readFileSync(join(scratch.dir, "dist/release/SHA256SUMS"), "utf8");
    for (const { pkg, bin } of PROVIDERS) {
      expect(sums).toContain(`${bin}-linux-${ARCH}`);
      const version = spawnSync(join(scratch.dir, `dist/release/${bin}-linux-${ARCH}`), ["--version"], {
        encoding: "utf8",
      });
      expect(version.stdout).toBe(`${bin} ${versionOf(pkg)} (${releaseCommit}, linux/${ARCH})\n`);
    }
  });
});

describe.each(PROVIDERS)("a user's npm install of $pkg", ({ pkg, bin }) => {
  let dir: string;
  let setup: NodeSetup;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kcp-rehearsal-user-${bin}-`));
    await run("npm", ["install", `${pkg}@${versionOf(pkg)}`], { cwd: dir, env: npmEnv(`npm-cache-${bin}`) });
    const found = nodeSetups(emulator as Emulator).find((s) => s.name === bin);
    if (!found) throw new Error(`the emulator has no node set-up for ${bin}`);
    setup = found;
  }, 300_000);
  afterAll(() => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  });

  /** The installed bin, on PATH with nothing but the lowest supported Node. */
  const runBin = (args: string[], input?: string) =>
    run(join(dir, "node_modules/.bin", bin), args, {
      cwd: dir,
      input,
      timeout: 60_000,
      check: false,
      env: { ...setup.env, PATH: `${dirname(floorNode)}:/usr/bin:/bin` },
    });

  it("installs it and core from the local registry at the released versions", () => {
    const installed = (name: string) =>
      (JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")) as Manifest).version;
    expect(installed(pkg)).toBe(versionOf(pkg));
    expect(installed(`${SCOPE}core`)).toBe(versionOf(`${SCOPE}core`));
    expect(existsSync(join(dir, "node_modules", "@kubelet-credential-provider", "config"))).toBe(false);
    expect(existsSync(join(dir, "node_modules", "@kubelet-credential-provider", "build"))).toBe(false);
  });

  it("runs its bin on the lowest supported Node", async () => {
    const version = await runBin(["--version"]);
    expect({ stdout: version.stdout, stderr: version.stderr }).toEqual({
      stdout: `${bin} ${versionOf(pkg)} (node ${floorVersion}, linux/${ARCH})\n`,
      stderr: "",
    });
    const request = JSON.stringify({
      kind: "CredentialProviderRequest",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      image: setup.image,
    });
    const answer = await runBin(setup.args, request);
    expect(answer.stderr).toBe("");
    expect(answer.status).toBe(0);
    const response = JSON.parse(answer.stdout) as {
      auth: Record<string, { username: string; password: string }>;
    };
    const registryHost = setup.image.split("/")[0] as string;
    const credential = Object.entries(response.auth).find(([key]) =>
      registryHost.endsWith(key.split("/")[0] ?? ""),
    );
    expect(credential?.[1].username).toBeTruthy();
    expect(credential?.[1].password).toBeTruthy();
    recordSummary({ kind: "npm", name: pkg, version: versionOf(pkg), node: floorVersion });
  });
});

describe("a node's install of the release assets", () => {
  it("install.sh fetches them over HTTPS, verifies them and writes the kubelet config", async () => {
    const e = emulator as Emulator;
    const assets = join(scratch.dir, "dist/release");
    e.route(
      { id: "release.assets", host: "127.0.0.1", method: ["GET", "HEAD"], path: /^\/release\/[^/]+$/ },
      (request) => {
        const file = join(assets, request.path.slice("/release/".length));
        if (!existsSync(file)) return { status: 404, body: "no such asset\n" };
        return {
          status: 200,
          headers: { "content-type": "application/octet-stream" },
          body: readFileSync(file),
        };
      },
    );
    const node = mkdtempSync(join(work, "node-"));
    const source = `https://127.0.0.1:${new URL(e.httpsUrl).port}/release/`;
    const install = await run(
      "sh",
      [
        join(scratch.dir, "tools/install/install.sh"),
        "--provider",
        "ecr,acr,gcp",
        "--source",
        source,
        "--bin-dir",
        join(node, "bin"),
        "--config",
        join(node, "credential-provider-config.yaml"),
      ],
      {
        cwd: node,
        env: { PATH: "/usr/bin:/bin", CURL_CA_BUNDLE: e.caFile, SSL_CERT_FILE: e.caFile, TMPDIR: node },
      },
    );
    expect(install.status).toBe(0);
    const config = readFileSync(join(node, "credential-provider-config.yaml"), "utf8");
    for (const { pkg, bin } of PROVIDERS) {
      expect(config).toContain(`name: ${bin}`);
      const version = spawnSync(join(node, "bin", bin), ["--version"], { encoding: "utf8", env: {} });
      expect(version.stdout).toBe(`${bin} ${versionOf(pkg)} (${releaseCommit}, linux/${ARCH})\n`);
    }
    recordSummary({ kind: "assets", names: PROVIDERS.map((p) => p.bin), arch: ARCH, source: "HTTPS" });
    recordSummary({
      kind: "registry",
      verdaccio: registry?.version ?? "?",
      mirrored: mirror?.packages ?? 0,
      published: [...published].sort(),
    });
  });
});

describe("a vendor's provider, from docs/writing-a-provider.md", () => {
  const home = mkdtempSync(join(tmpdir(), "kcp-rehearsal-vendor-"));
  const dir = join(home, "example-provider");
  const binary = (...path: string[]) => join(dir, ...path);
  let walk: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    const script = join(home, "walkthrough.sh");
    writeFileSync(script, walkthroughScript(walkthroughSteps()));
    // The reader's machine: the lowest supported Node first on PATH, then the machine's npm (not a
    // node_modules/.bin one: the `node` package's npm shim needs an npm beside it), nothing of this repo.
    const npm = (process.env.PATH ?? "")
      .split(":")
      .find(
        (entry) => entry.startsWith("/") && !entry.includes("node_modules") && existsSync(join(entry, "npm")),
      );
    if (!npm) throw new Error("no npm on PATH outside node_modules");
    walk = await run("sh", [script], {
      cwd: home,
      timeout: 900_000,
      check: false,
      // Nothing of this process's environment: pnpm's NODE_PATH would lend the reader this repo's
      // node_modules.
      env: {
        ...npmConfig("npm-cache-vendor"),
        HOME: home,
        PATH: `${dirname(floorNode)}:${npm}:/usr/local/bin:/usr/bin:/bin`,
      },
    });
  }, 900_000);
  afterAll(() => {
    if (!keep) rmSync(home, { recursive: true, force: true });
  });

  it("runs every file and command of the page, and its test passes", () => {
    expect(walk.status, `${walk.stdout}\n${walk.stderr}`).toBe(0);
    expect(walk.stdout).toMatch(/^# pass 4$/m);
    expect(walk.stdout).toMatch(/^# fail 0$/m);
  });

  it("installs our packages from the registry at the released versions", () => {
    const lock = JSON.parse(readFileSync(binary("package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    for (const name of ["core", "build", "kubelet-sim"].map((short) => `${SCOPE}${short}`)) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.version, name).toBe(versionOf(name));
      // Only the local registry has these versions (the rehearsal's own bump); npm checked them
      // against its integrity.
      expect(entry?.integrity, name).toMatch(/^sha512-/);
    }
  });

  it("builds a standalone executable for each architecture, with SHA256SUMS, checked where it can run", () => {
    const arches: string[] = [];
    const sums = readFileSync(binary("dist/release/SHA256SUMS"), "utf8");
    for (const target of RELEASE_TARGETS) {
      const file = assetName("example-credential-provider", target);
      expect(sums).toMatch(new RegExp(`^[0-9a-f]{64}  ${file.replaceAll(".", "\\.")}$`, "m"));
      let runner: string[] | null;
      try {
        runner = runnerFor(target);
      } catch (error) {
        if (process.env.CI === "true") throw error;
        continue;
      }
      if (runner === null) {
        // Windows: built, not run by kcp-build; the e2e suite runs this project's under Wine.
        expect(readFileSync(binary("dist/release", file)).subarray(0, 2).toString("latin1")).toBe("MZ");
      } else {
        const [command = "", ...args] = [...runner, binary("dist/release", file)];
        const version = spawnSync(command, [...args, "--version"], { encoding: "utf8", env: {} });
        expect(version.stdout).toBe(`example-credential-provider 0.1.0 (unknown, linux/${target.arch})\n`);
      }
      arches.push(`${target.os}-${target.arch}`);
    }
    expect(walk.stderr).toContain(
      `kcp-build: fetched @oven/bun-linux-${ARCH === "amd64" ? "aarch64" : "x64"}@`,
    );
    expect(walk.stderr).toContain("kcp-build: fetched @oven/bun-windows-x64@");
    recordSummary({ kind: "vendor", executable: "example-credential-provider", arches, node: floorVersion });
  });
});

function versionOf(name: string): string {
  const found = publicPackages.find((m) => m.name === name);
  if (!found) throw new Error(`${name} is not a public package`);
  return found.version;
}
