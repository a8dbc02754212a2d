/**
 * The npm side of the rehearsal, on loopback only:
 *
 * - a real npm registry, Verdaccio, with a throwaway storage directory, to which the release
 *   publishes this repo's packages;
 * - behind it, as its uplink, a mirror of the public registry holding exactly the third-party
 *   packages ours depend on (packed from what pnpm installed here), so that `npm install` of a
 *   provider resolves its dependencies as it would on npmjs.org, without the internet.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { run } from "./workspace.ts";

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * Every package `dirs` depend on in production, transitively, as installed here (name@version to
 * its directory), skipping those `skip` says (the workspace's own); and the installed packages
 * `extras` with theirs (what a reader installs beside ours: TypeScript, Node's types).
 */
export function productionClosure(
  dirs: string[],
  skip: (name: string) => boolean,
  extras: string[] = [],
): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (dir: string, root: boolean) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
    const key = `${manifest.name}@${manifest.version}`;
    if (!root) {
      if (found.has(key)) return;
      found.set(key, dir);
    }
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
    for (const name of Object.keys(deps)) {
      if (skip(name)) continue;
      const installed = _resolvePackage(dir, name);
      if (installed) visit(installed, false);
      else if (!manifest.optionalDependencies?.[name]) throw new Error(`${key}: ${name} is not installed`);
    }
  };
  for (const dir of dirs) visit(dir, true);
  for (const dir of extras) visit(realpathSync(dir), false);
  return found;
}

function _resolvePackage(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

export interface Mirror {
  url: string;
  packages: number;
  close(): Promise<void>;
}

/** Packs each package directory and serves them as a registry serves them: packuments and tarballs. */
export async function startMirror(packages: Map<string, string>, workDir: string): Promise<Mirror> {
  const tarballs = join(workDir, "mirror");
  mkdirSync(tarballs, { recursive: true });
  const packuments = new Map<string, { name: string; versions: Record<string, Manifest> }>();
  const files = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    // `/@scope%2fname` and `/@scope/name` alike, and however many slashes the client joins with.
    const path = `/${decodeURIComponent(new URL(request.url ?? "/", "http://mirror").pathname).replace(/^\/+/, "")}`;
    const file = files.get(path);
    if (file) {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(readFileSync(file));
      return;
    }
    const packument = packuments.get(path.slice(1));
    if (!packument) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end('{"error":"not found"}');
      return;
    }
    const versions = Object.keys(packument.versions).sort(_bySemver);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ ...packument, "dist-tags": { latest: versions.at(-1) } }));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const dir of packages.values()) {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
    const filename = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;
    const tarball = join(tarballs, filename);
    // An installed package directory holds what was published: packed as npm packs it (under
    // `package/`). Not with `npm pack`, which fails on some of these ("Exit handler never called"),
    // and with pnpm's hard links dereferenced: npm does not extract links from a tarball.
    await run(
      "tar",
      ["-czf", tarball, "--hard-dereference", "--owner=0", "--group=0", "--numeric-owner"].concat([
        "--exclude=./node_modules",
        "--transform=s,^\\.,package,",
        "-C",
        dir,
        ".",
      ]),
      { cwd: workDir },
    );
    const bytes = readFileSync(tarball);
    const path = `/${manifest.name}/-/${filename}`;
    files.set(path, tarball);
    const packument = packuments.get(manifest.name) ?? { name: manifest.name, versions: {} };
    packument.versions[manifest.version] = {
      ...manifest,
      dist: {
        tarball: `${url}${path}`,
        shasum: createHash("sha1").update(bytes).digest("hex"),
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      },
    };
    packuments.set(manifest.name, packument);
  }
  return {
    url,
    packages: packages.size,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function _bySemver(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

export interface Registry {
  url: string;
  /** An npmrc that points npm at the registry, with a user's token for publishing. */
  npmrc: string;
  version: string;
  close(): Promise<void>;
}

/**
 * Verdaccio, in its own process, on a free loopback port: this repo's scope only from what is
 * published to it, everything else through `uplink`. A user is registered through the registry's
 * own API, as `npm adduser` does, and its token goes in the npmrc.
 */
export async function startVerdaccio(uplink: string, workDir: string): Promise<Registry> {
  const dir = join(workDir, "verdaccio");
  mkdirSync(join(dir, "storage"), { recursive: true });
  const port = await _freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, "storage"))}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(join(dir, "htpasswd"))}`,
      "    max_users: 10",
      "uplinks:",
      "  mirror:",
      `    url: ${uplink}/`,
      "    cache: false",
      "packages:",
      "  '@kubelet-credential-provider/*':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "    proxy: mirror",
      "log: { type: stdout, format: pretty, level: error }",
      "web: { enable: false }",
      "",
    ].join("\n"),
  );
  const bin = join(import.meta.dirname, "../node_modules/verdaccio/bin/verdaccio");
  const child = spawn(process.execPath, [bin, "--config", config, "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const close = async () => {
    child.kill();
    await exited;
  };
  try {
    await _waitFor(`${url}/-/ping`, () => output);
    const user = await fetch(`${url}/-/user/org.couchdb.user:rehearsal`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "rehearsal", password: "rehearsal-password" }),
    });
    const { token } = (await user.json()) as { token?: string };
    if (!user.ok || !token) throw new Error(`Verdaccio did not register a user: HTTP ${user.status}`);
    const npmrc = join(dir, "npmrc");
    writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    const version = JSON.parse(
      readFileSync(join(import.meta.dirname, "../node_modules/verdaccio/package.json"), "utf8"),
    ).version as string;
    return { url, npmrc, version, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function _freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

async function _waitFor(url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Verdaccio did not start within 60 s:\n${output()}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
