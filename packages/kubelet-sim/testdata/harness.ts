/**
 * Test helpers: the CLI run from source as a child process (Node 24 runs the TypeScript directly;
 * core resolves to its built dist), plugin bin dirs made from the scripts in plugins/, and configs
 * written as JSON.
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LookupJsonEntry } from "../src/report.ts";

export const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
export const PLUGINS = fileURLToPath(new URL("./plugins/", import.meta.url));
export const CONFIGS = fileURLToPath(new URL("./config/", import.meta.url));

export const V1 = "credentialprovider.kubelet.k8s.io/v1";
export const V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1";
export const V1ALPHA1 = "credentialprovider.kubelet.k8s.io/v1alpha1";

/** A temporary directory for one test file; remove() deletes it. */
export function scratch(prefix: string): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `kcs-${prefix}-`));
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A bin dir holding, under each provider name, a copy of a script from plugins/ (executable). */
export function makeBinDir(dir: string, plugins: Record<string, "counting" | "misbehaving">): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, script] of Object.entries(plugins)) {
    const target = join(dir, name);
    copyFileSync(join(PLUGINS, `${script}.sh`), target);
    chmodSync(target, 0o755);
  }
  return dir;
}

/** A provider entry with the defaults every test uses. */
export function provider(
  name: string,
  matchImages: string[],
  extra: { env?: Record<string, string>; [field: string]: unknown } = {},
): Record<string, unknown> {
  const { env, ...rest } = extra;
  return {
    name,
    matchImages,
    defaultCacheDuration: "10m",
    apiVersion: V1,
    ...(env === undefined ? {} : { env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }),
    ...rest,
  };
}

/** Writes a CredentialProviderConfig (JSON) and returns its path. */
export function writeConfig(path: string, providers: unknown[]): string {
  writeFileSync(
    path,
    JSON.stringify(
      { kind: "CredentialProviderConfig", apiVersion: "kubelet.config.k8s.io/v1", providers },
      null,
      2,
    ),
  );
  return path;
}

export interface SimRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `kubelet-credential-sim ARGS` from source, with a minimal environment plus `env`. */
export function runSim(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<SimRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        // Node keeps the type-stripped sources here: each run starts in half the time.
        NODE_COMPILE_CACHE: join(tmpdir(), "kcs-node-compile-cache"),
        ...options.env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(options.stdin ?? "");
  });
}

/** The `executed NAME N times` lines of a run. */
export function execCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^executed (\S+) (\d+) times?$/gm))
    counts[match[1] as string] = Number(match[2]);
  return counts;
}

/** The lines a counting plugin appended to its COUNT_FILE (none when it never ran). */
export function countLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

/** The JSON report of a `lookup --output json` run: report.ts's own type. */
export type JsonEntry = LookupJsonEntry;

export function parseReport(run: SimRun): LookupJsonEntry[] {
  return JSON.parse(run.stdout) as LookupJsonEntry[];
}
