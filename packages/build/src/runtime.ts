/**
 * The Bun runtimes: the one for this machine compiles, the one for each target is copied into the
 * executable. They come from Bun's npm platform packages, at the one version this package pins in
 * its optionalDependencies (compiler and runtime must be the same Bun: the bytecode is the
 * runtime's).
 *
 * npm and pnpm install only the package for the machine they run on. The other architecture's is
 * looked for in the directories a caller names (a project that installs it itself), then in the
 * cache; failing that it is fetched once with `npm pack`, from the registry and with the credentials
 * the project's npm configuration names, its integrity checked by npm as on an install, and
 * unpacked into the cache.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BuildError } from "./errors.ts";
import { executableFile, platformOf, type Target } from "./targets.ts";

/** The Bun version every build uses: this package's own pin, in its package.json. */
export const BUN_VERSION: string = (() => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    optionalDependencies?: Record<string, string>;
  };
  const pins = new Set(Object.values(manifest.optionalDependencies ?? {}));
  const [version, ...others] = [...pins];
  if (!version || others.length > 0) throw new Error("package.json must pin one Bun version");
  return version;
})();

/** Where {@link bunRuntime} looks for a runtime, and whether it may fetch one. */
export interface RuntimeOptions {
  /** Directories whose node_modules may hold the runtime package (searched as Node resolves). */
  searchFrom?: readonly string[];
  /** Where a fetched runtime is kept. */
  cacheDir: string;
  /** Whether a runtime found nowhere may be fetched with `npm pack` (run in `projectDir`). */
  fetch?: boolean;
  /** The directory npm runs in, so that its .npmrc applies. */
  projectDir?: string;
  log?: (line: string) => void;
}

/** The Bun binary for `target`: found installed, found in the cache, or fetched into the cache. */
export function bunRuntime(target: Target, options: RuntimeOptions): string {
  const bases = [...(options.searchFrom ?? []).map((dir) => join(dir, "package.json")), import.meta.url];
  const mismatched: string[] = [];
  for (const base of bases) {
    let manifest: string;
    try {
      manifest = createRequire(base).resolve(`${target.bunPackage}/package.json`);
    } catch {
      continue;
    }
    const version = _versionAt(dirname(manifest));
    if (version === BUN_VERSION) return _binaryIn(dirname(manifest), target);
    mismatched.push(`${dirname(manifest)} is ${version ?? "unreadable"}`);
  }
  const cached = join(options.cacheDir, `${target.bunPackage.replace("/", "+")}@${BUN_VERSION}`);
  if (_versionAt(cached) === BUN_VERSION) return _binaryIn(cached, target);
  const wanted = `${target.bunPackage}@${BUN_VERSION} (the Bun runtime for ${platformOf(target)})`;
  if (options.fetch === false) {
    const found = mismatched.length > 0 ? `; found ${mismatched.join(", ")}` : "";
    throw new BuildError("RUNTIME_UNAVAILABLE", `${wanted} is not installed${found}`);
  }
  _fetch(target, cached, options);
  options.log?.(`fetched ${wanted} with npm pack`);
  return _binaryIn(cached, target);
}

function _versionAt(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function _binaryIn(dir: string, target: Target): string {
  const name = executableFile("bun", target);
  const binary = join(dir, "bin", name);
  if (!existsSync(binary)) {
    throw new BuildError(
      "RUNTIME_UNAVAILABLE",
      `${target.bunPackage} in ${dir} has no bin/${name}: reinstall it`,
    );
  }
  return binary;
}

/** `npm pack` the runtime package into a scratch directory, unpack it, and move it into place. */
function _fetch(target: Target, destination: string, options: RuntimeOptions): void {
  const spec = `${target.bunPackage}@${BUN_VERSION}`;
  mkdirSync(options.cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(options.cacheDir, ".fetch-"));
  try {
    const packed = spawnSync(
      "npm",
      ["pack", spec, "--pack-destination", scratch, "--json", "--ignore-scripts"],
      {
        cwd: options.projectDir ?? process.cwd(),
        encoding: "utf8",
        timeout: 600_000,
        env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: "false" },
      },
    );
    if (packed.error || packed.status !== 0) {
      const why = packed.error?.message ?? _npmError(packed.stderr) ?? `exit ${packed.status}`;
      throw new BuildError("RUNTIME_UNAVAILABLE", `cannot fetch ${spec} with npm pack: ${why}`);
    }
    let filename: string | undefined;
    try {
      filename = (JSON.parse(packed.stdout) as { filename?: string }[])[0]?.filename;
    } catch {
      // not npm's JSON: reported below
    }
    if (!filename || filename.includes("/")) {
      throw new BuildError("RUNTIME_UNAVAILABLE", `npm pack ${spec} did not say which file it wrote`);
    }
    const untar = spawnSync("tar", ["-xzf", join(scratch, filename), "--no-same-owner", "-C", scratch], {
      encoding: "utf8",
    });
    const unpacked = join(scratch, "package");
    if (untar.error || untar.status !== 0 || _versionAt(unpacked) !== BUN_VERSION) {
      const why = untar.error?.message ?? _lastLine(untar.stderr) ?? "it holds another version";
      throw new BuildError("RUNTIME_UNAVAILABLE", `cannot unpack ${spec}: ${why}`);
    }
    chmodSync(_binaryIn(unpacked, target), 0o755);
    try {
      renameSync(unpacked, destination);
    } catch (error) {
      // Another build fetched it at the same time: theirs is as good.
      if (_versionAt(destination) !== BUN_VERSION) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** npm's own reason (`npm error code E404`, `npm error 404 Not Found - GET ...`), not its log path. */
function _npmError(text: string | undefined): string | undefined {
  const reasons = (text ?? "")
    .split("\n")
    .filter((line) => /^npm (error|ERR!) /.test(line))
    .map((line) => line.replace(/^npm (error|ERR!) /, "").trim())
    .filter((line) => line !== "" && !/complete log of this run/.test(line));
  return reasons.length > 0 ? [...new Set(reasons)].slice(0, 3).join("; ") : undefined;
}

function _lastLine(text: string | undefined): string | undefined {
  return text
    ?.trim()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .at(-1);
}
