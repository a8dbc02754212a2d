/**
 * Which executables a package has: every `bin` in its package.json, each bundled from the file
 * the bin points at (the compiled CLI, `dist/cli.js`, which runs on Node as it is). A package whose
 * bins are Node tools, not providers, says `"standalone": false` and has none.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BuildError } from "./errors.ts";

/** One bin of a package, to be built into a standalone executable. */
export interface Executable {
  /** The command name: the bin's key, and the executable's file name. */
  name: string;
  /** The package's version, which `--version` prints. */
  version: string;
  /** The package the bin belongs to. */
  packageDir: string;
  /** The entry point to bundle: the file the bin points at. */
  entry: string;
}

/** What this module reads of a package.json. */
export interface PackageManifest {
  name?: string;
  version?: string;
  private?: boolean;
  bin?: string | Record<string, string>;
  /**
   * `false`: the bins are Node tools, not executables to build. `releaseWithProviders` (this
   * repository's own build): released with every provider, though the package is private.
   */
  standalone?: false | { releaseWithProviders?: boolean };
}

/** A bin name is a file name in a bin directory: no path, no leading dot, no shell metacharacters. */
const BIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The package.json of `packageDir`; a `PACKAGE_INVALID` {@link BuildError} when it cannot be read. */
export function readManifest(packageDir: string): PackageManifest {
  const file = join(packageDir, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new BuildError("PACKAGE_INVALID", `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    const manifest = JSON.parse(text) as unknown;
    if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw new Error();
    return manifest as PackageManifest;
  } catch {
    throw new BuildError("PACKAGE_INVALID", `${file} is not a JSON object`);
  }
}

/**
 * The executables of the package in `packageDir`, in its package.json's order. npm's short form,
 * `"bin": "./dist/cli.js"`, names the command after the package (without its scope).
 */
export function packageExecutables(packageDir: string, manifest = readManifest(packageDir)): Executable[] {
  if (manifest.standalone === false) return [];
  const bins =
    typeof manifest.bin === "string"
      ? { [(manifest.name ?? "").replace(/^@[^/]*\//, "")]: manifest.bin }
      : (manifest.bin ?? {});
  return Object.entries(bins).map(([name, entry]) => {
    if (!BIN_NAME.test(name)) {
      throw new BuildError(
        "PACKAGE_INVALID",
        `bin name ${JSON.stringify(name)} in ${packageDir}/package.json is not a file name`,
      );
    }
    if (typeof entry !== "string" || entry === "") {
      throw new BuildError("PACKAGE_INVALID", `bin ${name} in ${packageDir}/package.json has no file`);
    }
    return { name, version: manifest.version ?? "0.0.0", packageDir, entry: resolve(packageDir, entry) };
  });
}
