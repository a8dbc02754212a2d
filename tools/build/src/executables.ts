/**
 * Which executables the repo ships: every `bin` of every workspace package. A package's bin points
 * at its compiled CLI (`dist/cli.js`), which turbo has built before this runs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Executable {
  /** The command name, and the file name in dist/bin. */
  name: string;
  version: string;
  packageDir: string;
  /** The compiled entry point to bundle. */
  entry: string;
  /** From a private package: not published to npm. */
  private: boolean;
  /**
   * Built for every release target and put in dist/release: a public package's executables, and a
   * private one's whose package.json says `"standalone": {"releaseWithProviders": true}` (the
   * simulator, which the node installer needs and which ships with every provider's release).
   */
  released: boolean;
}

const WORKSPACE_DIRS = ["packages", "examples", "tools"];

export function findExecutables(root: string): Executable[] {
  const found: Executable[] = [];
  for (const group of WORKSPACE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(root, group)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const packageDir = join(root, group, name);
      let manifest: {
        version?: string;
        private?: boolean;
        bin?: Record<string, string>;
        standalone?: { releaseWithProviders?: boolean };
      };
      try {
        manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
      } catch {
        continue;
      }
      for (const [command, entry] of Object.entries(manifest.bin ?? {})) {
        found.push({
          name: command,
          version: manifest.version ?? "0.0.0",
          packageDir,
          entry: join(packageDir, entry),
          private: manifest.private === true,
          released: manifest.private !== true || manifest.standalone?.releaseWithProviders === true,
        });
      }
    }
  }
  return found;
}
