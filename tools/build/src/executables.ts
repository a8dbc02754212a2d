/**
 * Which executables the repo ships: every bin of every workspace package (the build package's
 * own `kcp-build`, a Node tool, says `"standalone": false`). A package's bin points at its compiled
 * CLI (`dist/cli.js`), which turbo has built before this runs.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type Executable, packageExecutables, readManifest } from "../../../packages/build/src/index.ts";

export interface WorkspaceExecutable extends Executable {
  /** From a private package: not published to npm. */
  private: boolean;
  /**
   * Built for every release target and put in dist/release: a public package's executables, and a
   * private one's whose package.json says `"standalone": {"releaseWithProviders": true}`.
   */
  released: boolean;
}

const WORKSPACE_DIRS = ["packages", "examples", "tools"];

export function findExecutables(root: string): WorkspaceExecutable[] {
  const found: WorkspaceExecutable[] = [];
  for (const group of WORKSPACE_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(root, group)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const packageDir = join(root, group, name);
      let manifest: ReturnType<typeof readManifest>;
      try {
        manifest = readManifest(packageDir);
      } catch {
        continue;
      }
      const isPrivate = manifest.private === true;
      const shipsWithProviders =
        manifest.standalone !== false && manifest.standalone?.releaseWithProviders === true;
      for (const executable of packageExecutables(packageDir, manifest)) {
        found.push({ ...executable, private: isPrivate, released: !isPrivate || shipsWithProviders });
      }
    }
  }
  return found;
}
