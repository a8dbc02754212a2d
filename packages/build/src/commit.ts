/**
 * The commit a build is made from, as the executables' `--version` names it: git's HEAD in 12 hex
 * digits, with `-dirty` when the work tree differs from it, or `unknown` outside a git checkout
 * (a source tarball, a fresh directory).
 */
import { spawnSync } from "node:child_process";

/** The commit to name for a build of `dir`: 12 hex digits of HEAD, `-dirty`, or `unknown`. */
export function buildCommit(dir: string): string {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });
  const head = git("rev-parse", "--short=12", "HEAD");
  const hash = head.stdout?.trim() ?? "";
  if (head.status !== 0 || !/^[0-9a-f]{12}$/.test(hash)) return "unknown";
  const status = git("status", "--porcelain");
  return status.status === 0 && status.stdout.trim() === "" ? hash : `${hash}-dirty`;
}
