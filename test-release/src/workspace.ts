/**
 * The maintainer's side of the rehearsal: a scratch copy of this work tree, made a git repository
 * with an `origin` of its own (a bare repository beside it), so that a release can bump, commit,
 * build, publish and push tags there without touching the real one.
 *
 * The copy holds every file git would (tracked and untracked, not ignored) and pnpm's links as
 * they are: each package's node_modules is copied as links (a workspace dependency is a relative
 * link, so it points at the copy's package), and the root's node_modules is a link to this tree's,
 * where the installed packages are. So the copy needs no install, and no network.
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { listWorkspacePackages, repoRoot } from "../../tools/release/src/pack.ts";

export { repoRoot };

export interface Scratch {
  dir: string;
  /** The bare repository the copy pushes to. */
  origin: string;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Release Rehearsal",
  GIT_AUTHOR_EMAIL: "rehearsal@localhost",
  GIT_COMMITTER_NAME: "Release Rehearsal",
  GIT_COMMITTER_EMAIL: "rehearsal@localhost",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export async function scratchCopy(into: string): Promise<Scratch> {
  const dir = join(into, "repo");
  const origin = join(into, "origin.git");
  const files = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = join(repoRoot, file);
    if (!existsSync(from)) continue; // deleted in the work tree, not yet in the index
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(from, join(dir, file));
  }
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  for (const pkg of await listWorkspacePackages(repoRoot)) {
    const modules = join(pkg.dir, "node_modules");
    if (existsSync(modules) && lstatSync(modules).isDirectory()) {
      execFileSync("cp", ["-a", modules, join(dir, relative(repoRoot, pkg.dir))]);
    }
  }
  git(into, "init", "--quiet", "--bare", origin);
  git(dir, "init", "--quiet", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "--quiet", "-m", "the work tree under rehearsal");
  git(dir, "remote", "add", "origin", origin);
  return { dir, origin };
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...GIT_ENV } });
}

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number | null;
}

/**
 * Runs a command, failing with its output when it fails. Asynchronously: the registry mirror and
 * the cloud emulator it may call run in this process, and must go on answering meanwhile.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string; check?: boolean },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 600_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      if ((status !== 0 || signal) && options.check !== false) {
        const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
        const what = [command, ...args].join(" ").slice(0, 300);
        reject(new Error(`${what} (in ${options.cwd}) failed: ${signal ?? `exit ${status}`}\n${tail}`));
        return;
      }
      resolvePromise({ stdout, stderr, status });
    });
    if (child.stdin) {
      // A command that exits without reading all its input (a usage error) is judged by its exit
      // status, not by the pipe it left.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}
