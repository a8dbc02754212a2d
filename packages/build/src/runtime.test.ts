/**
 * Finding the Bun runtimes: installed (for this machine, an optional dependency), in a directory the
 * caller names, in the cache, or fetched with the real npm from a registry on loopback that serves a
 * stand-in runtime package (a shell script as bin/bun), as a vendor's npm registry would serve
 * Bun's.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError } from "./errors.ts";
import { BUN_VERSION, bunRuntime } from "./runtime.ts";
import { hostTarget, RELEASE_TARGETS, type Target } from "./targets.ts";

const dir = mkdtempSync(join(tmpdir(), "kcp-build-runtime-"));
const foreign = {
  ...(RELEASE_TARGETS.find((t) => t !== hostTarget()) as Target),
  bunPackage: "@kcp-test/bun-runtime",
};
/** The tarball the registry serves for the stand-in package, at BUN_VERSION; absent: 404. */
const served = join(dir, "served.tgz");
const requestLog = join(dir, "requests.log");
let registry: ChildProcess;
let registryUrl = "";

function serveStandIn(holdsVersion: string | undefined): void {
  rmSync(served, { force: true });
  if (holdsVersion === undefined) return;
  const src = join(dir, `src-${holdsVersion}`, "package");
  mkdirSync(join(src, "bin"), { recursive: true });
  writeFileSync(
    join(src, "package.json"),
    JSON.stringify({ name: foreign.bunPackage, version: holdsVersion }),
  );
  writeFileSync(join(src, "bin", "bun"), `#!/bin/sh\necho stand-in bun ${holdsVersion}\n`);
  spawnSync("tar", ["-czf", served, "-C", join(dir, `src-${holdsVersion}`), "package"]);
}

/**
 * In a process of its own: the build calls npm synchronously, which would starve a server in this
 * one. Serves the packument and the tarball as npm's registry does, and logs each request.
 */
const REGISTRY = `
const { createServer } = require("node:http");
const { createHash } = require("node:crypto");
const { appendFileSync, existsSync, readFileSync } = require("node:fs");
const [name, version, served, log] = process.argv.slice(1);
const server = createServer((request, response) => {
  const path = decodeURIComponent(request.url);
  appendFileSync(log, path + "\\n");
  const url = "http://127.0.0.1:" + server.address().port;
  if (!existsSync(served)) { response.statusCode = 404; return response.end('{"error":"not found"}'); }
  const bytes = readFileSync(served);
  if (path.endsWith(".tgz")) return response.end(bytes);
  if (path !== "/" + name) { response.statusCode = 404; return response.end('{"error":"not found"}'); }
  const integrity = "sha512-" + createHash("sha512").update(bytes).digest("base64");
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ name, "dist-tags": { latest: version },
    versions: { [version]: { name, version, dist: { tarball: url + "/" + name + "/-/runtime-" + version + ".tgz", integrity } } } }));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

const requestCount = () =>
  existsSync(requestLog) ? readFileSync(requestLog, "utf8").split("\n").length - 1 : 0;

beforeAll(async () => {
  registry = spawn(process.execPath, ["-e", REGISTRY, foreign.bunPackage, BUN_VERSION, served, requestLog], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((ok) =>
    registry.stdout?.once("data", (chunk) => ok(String(chunk).trim())),
  );
  registryUrl = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  registry.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A vendor's project: a package.json and an .npmrc that names the registry (and a cache of its own). */
function project(name: string): string {
  const projectDir = join(dir, name);
  mkdirSync(projectDir, { recursive: true });
  writeFileSync(join(projectDir, "package.json"), JSON.stringify({ name, version: "1.0.0" }));
  writeFileSync(
    join(projectDir, ".npmrc"),
    `registry=${registryUrl}/\ncache=${join(dir, `npm-cache-${name}`)}\n`,
  );
  return projectDir;
}

function failure(run: () => unknown): BuildError {
  try {
    run();
  } catch (error) {
    if (error instanceof BuildError) return error;
    throw error;
  }
  throw new Error("did not fail");
}

describe("bunRuntime", { timeout: 60_000 }, () => {
  it("is this machine's own from the optional dependency, at the pinned version", () => {
    const binary = bunRuntime(hostTarget(), { cacheDir: join(dir, "unused"), fetch: false });
    expect(binary).toMatch(new RegExp(`/${hostTarget().bunPackage.replace("/", "\\/")}/bin/bun$`));
    expect(spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim()).toBe(BUN_VERSION);
    expect(existsSync(join(dir, "unused"))).toBe(false);
  });

  it("fetches another architecture's once with npm pack from the project's registry, then uses the cache", () => {
    serveStandIn(BUN_VERSION);
    const projectDir = project("fetches");
    const cacheDir = join(projectDir, "node_modules/.cache/kcp-build/runtimes");
    const logged: string[] = [];
    const binary = bunRuntime(foreign, { cacheDir, projectDir, log: (line) => logged.push(line) });
    expect(spawnSync(binary, [], { encoding: "utf8" }).stdout).toBe(`stand-in bun ${BUN_VERSION}\n`);
    expect(binary.startsWith(cacheDir)).toBe(true);
    expect(logged).toEqual([
      `fetched ${foreign.bunPackage}@${BUN_VERSION} (the Bun runtime for linux/${foreign.arch}) with npm pack`,
    ]);
    const requests = requestCount();
    expect(requests).toBeGreaterThan(0);
    expect(bunRuntime(foreign, { cacheDir, projectDir, log: (line) => logged.push(line) })).toBe(binary);
    expect(requestCount()).toBe(requests);
    expect(logged).toHaveLength(1);
  });

  it("prefers one installed in a directory the caller names, at the pinned version only", () => {
    const installed = join(dir, "installer", "node_modules", foreign.bunPackage);
    mkdirSync(join(installed, "bin"), { recursive: true });
    writeFileSync(join(installed, "bin", "bun"), "");
    writeFileSync(
      join(installed, "package.json"),
      JSON.stringify({ name: foreign.bunPackage, version: BUN_VERSION }),
    );
    const options = {
      searchFrom: [join(dir, "installer")],
      cacheDir: join(dir, "empty-cache"),
      fetch: false,
    };
    expect(bunRuntime(foreign, options)).toBe(join(installed, "bin", "bun"));
    writeFileSync(
      join(installed, "package.json"),
      JSON.stringify({ name: foreign.bunPackage, version: "0.0.1" }),
    );
    const error = failure(() => bunRuntime(foreign, options));
    expect([error.code, error.message]).toEqual([
      "RUNTIME_UNAVAILABLE",
      `${foreign.bunPackage}@${BUN_VERSION} (the Bun runtime for linux/${foreign.arch}) is not installed; found ${installed} is 0.0.1`,
    ]);
  });

  it("says in one line why npm could not fetch it, and leaves no partial runtime behind", () => {
    serveStandIn(undefined);
    const projectDir = project("not-served");
    const cacheDir = join(projectDir, "cache");
    const error = failure(() => bunRuntime(foreign, { cacheDir, projectDir }));
    expect(error.code).toBe("RUNTIME_UNAVAILABLE");
    expect(error.message).toMatch(
      new RegExp(`^cannot fetch ${foreign.bunPackage}@${BUN_VERSION} with npm pack: .*404`),
    );
    expect(error.message).not.toContain("\n");
    expect(readdir(cacheDir)).toEqual([]);
  });

  it("refuses a package that holds another version than the one asked for", () => {
    serveStandIn("0.0.2");
    const projectDir = project("wrong-version");
    const cacheDir = join(projectDir, "cache");
    const error = failure(() => bunRuntime(foreign, { cacheDir, projectDir }));
    expect([error.code, error.message]).toEqual([
      "RUNTIME_UNAVAILABLE",
      `cannot unpack ${foreign.bunPackage}@${BUN_VERSION}: it holds another version`,
    ]);
    expect(readdir(cacheDir)).toEqual([]);
  });
});

function readdir(path: string): string[] {
  return existsSync(path)
    ? spawnSync("ls", ["-A", path], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)
    : [];
}
