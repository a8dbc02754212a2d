/**
 * Runs a built executable from dist/bin once, as the kubelet does: the request on stdin, nothing
 * but the given environment (no PATH, no Node), stdout and stderr kept whole. Through GNU time
 * when it is installed, for the run's peak RSS.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const binDir = resolve(import.meta.dirname, "../../../dist/bin");

export const PROVIDERS = ["ecr-credential-provider", "acr-credential-provider", "auth-provider-gcp"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** GNU time, for peak RSS; CI installs it (.ci/install-test-deps). */
export const gnuTime: string | undefined =
  spawnSync("/usr/bin/time", ["-f", "%M", "true"]).status === 0 ? "/usr/bin/time" : undefined;

export interface ExecOptions {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  stdin: string | Buffer;
  /** The test's own guard: the process is killed after this long (a hung provider is a failure). */
  killAfterMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak RSS in MB, when GNU time is installed. */
  peakRssMb?: number;
}

let scratch: string | undefined;

export function assertBuilt(names: readonly string[] = PROVIDERS): void {
  for (const name of names) {
    if (!existsSync(join(binDir, name))) throw new Error(`dist/bin/${name} is missing: run pnpm build first`);
  }
}

export function exec(name: string, options: ExecOptions): Promise<ExecResult> {
  return launch(name, options).done;
}

/**
 * Starts a run: `written` settles once the request is in the pipe, `done` when the process ends.
 * A burst starts each exec once the one before has its request, as the kubelet, which writes the
 * request as it starts each exec, does: 50 spawns queued before any write would make the first
 * ones wait on this process's event loop, not on their own start.
 */
export function launch(
  name: string,
  options: ExecOptions,
): { written: Promise<void>; done: Promise<ExecResult> } {
  let markWritten!: () => void;
  const written = new Promise<void>((resolve) => {
    markWritten = resolve;
  });
  const done = _run(name, options, markWritten);
  done.finally(markWritten).catch(() => {});
  return { written, done };
}

function _run(name: string, options: ExecOptions, onWritten: () => void): Promise<ExecResult> {
  scratch ??= mkdtempSync(join(tmpdir(), "kcp-adversarial-"));
  const rssFile = join(scratch, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const binary = join(binDir, name);
  const [command, args] = gnuTime
    ? [gnuTime, ["-q", "-f", "%M", "-o", rssFile, binary, ...(options.args ?? [])]]
    : [binary, [...(options.args ?? [])]];
  const started = performance.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env: { ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => {}); // a provider may stop reading an oversized request
    const guard = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 70_000);
    child.on("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      const result: ExecResult = {
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ms: performance.now() - started,
      };
      if (gnuTime && existsSync(rssFile)) {
        const kb = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop());
        if (Number.isFinite(kb)) result.peakRssMb = kb / 1024;
        rmSync(rssFile, { force: true });
      }
      resolveRun(result);
    });
    child.stdin.end(options.stdin, onWritten);
  });
}

/** Runs `tasks` with at most `limit` in flight, keeping their order in the results. */
export async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export const V1 = "credentialprovider.kubelet.k8s.io/v1";

export const request = (image: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image, ...extra })}\n`;
