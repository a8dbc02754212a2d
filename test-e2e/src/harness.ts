/**
 * The e2e harness: the cloud emulator, and `dist/bin/kubelet-credential-sim lookup` running the
 * built providers from `dist/bin` as the kubelet would, with nothing but the emulator's proxy
 * settings in their environment (no PATH, no Node). Every byte any process wrote is kept so that
 * each test can check that no secret the emulator issued leaked.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Emulator, EmulatorOptions } from "@kubelet-credential-provider/cloud-emulator";
import { startEmulator } from "@kubelet-credential-provider/cloud-emulator";
import type { LookupJsonEntry } from "../../packages/kubelet-sim/src/report.ts";

/**
 * The executables the suite runs: this machine's build (dist/bin), or with KCP_E2E_ARCH=arm64 the
 * linux-arm64 build (dist/bin-linux-arm64, from `pnpm build --release=auto`) under qemu-user,
 * through one wrapper script per binary, so that the simulator execs each provider exactly as it
 * does natively (the vitest config runs the suite both ways where qemu-user is installed).
 */
export const binDir =
  process.env.KCP_E2E_ARCH === "arm64" ? _arm64Wrappers() : resolve(import.meta.dirname, "../../dist/bin");

/**
 * Under qemu-user each exec starts about a second later, and a provider's first module loads are
 * slower: every wall-clock bound of the suite allows this much more (nothing for native runs), and
 * an attempt's timeout, taken from the time left, comes out shorter.
 */
export const emulated = process.env.KCP_E2E_ARCH === "arm64";
export const startupAllowanceMs = emulated ? 4_000 : 0;
/**
 * A provider's `--deadline` of `seconds` plus start-up's allowance: the deadline runs from the exec,
 * so under qemu-user start-up alone would leave time for one attempt.
 */
export const deadlineFlag = (seconds: number) => `--deadline=${seconds + startupAllowanceMs / 1000}s`;

function _arm64Wrappers(): string {
  const built = resolve(import.meta.dirname, "../../dist/bin-linux-arm64");
  const qemu = spawnSync("/bin/sh", ["-c", "command -v qemu-aarch64"], { encoding: "utf8" }).stdout.trim();
  if (!qemu || !existsSync("/usr/aarch64-linux-gnu/lib")) {
    throw new Error(
      "KCP_E2E_ARCH=arm64 needs qemu-user and the arm64 sysroot: apt-get install qemu-user libc6-arm64-cross",
    );
  }
  if (!existsSync(built)) throw new Error("dist/bin-linux-arm64 is missing: run pnpm build --release=auto");
  const dir = mkdtempSync(join(tmpdir(), "kcp-e2e-arm64-"));
  for (const name of readdirSync(built)) {
    const target = join(built, name);
    if (/['\\]/.test(target) || /['\\]/.test(qemu)) throw new Error(`cannot quote ${target} for a wrapper`);
    // No PATH in the providers' environment: every path is absolute.
    writeFileSync(join(dir, name), `#!/bin/sh\nexec '${qemu}' -L /usr/aarch64-linux-gnu '${target}' "$@"\n`, {
      mode: 0o755,
    });
  }
  return dir;
}
const sim = join(binDir, "kubelet-credential-sim");
const testdata = resolve(import.meta.dirname, "../testdata");

/** One entry of `lookup --output json`: the simulator's own type (packages/kubelet-sim/src/report.ts). */
export type LookupEntry = LookupJsonEntry;

export interface LookupRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The raw stderr of every plugin run, in order. */
  pluginStderr: string[];
  entries: LookupEntry[];
  execCounts: Record<string, number>;
}

export interface LookupOptions {
  /** Extra environment for the simulator, and so for the plugins. */
  env?: Record<string, string>;
  /** Extra simulator flags, before the images. */
  flags?: string[];
}

export interface E2E {
  emulator: Emulator;
  /**
   * Writes testdata/NAME with its {{PLACEHOLDERS}} filled in (API_KEY_FILE, and any in `vars`) and
   * `edit` applied; returns its path.
   */
  config(name: string, edit?: (text: string) => string, vars?: Record<string, string>): string;
  /** Writes a scratch file (an azure.json, a token file) in the run's directory; returns its path. */
  file(name: string, content: string): string;
  lookup(config: string, images: string[], options?: LookupOptions): Promise<LookupRun>;
  /** `kubelet-credential-sim doctor ARGS`, in the emulator's environment. */
  doctor(args: string[]): Promise<LookupRun>;
  /** `kubelet-credential-sim verify IMAGE --username U --password-stdin`. */
  verify(image: string, username: string, password: string): Promise<LookupRun>;
  /** Fails if any secret the emulator issued appears in anything the processes printed. */
  expectNoLeaks(run: LookupRun): void;
  close(): Promise<void>;
}

export async function startE2E(options: EmulatorOptions = {}): Promise<E2E> {
  for (const name of ["kubelet-credential-sim", "example-credential-provider"]) {
    if (!existsSync(join(binDir, name))) throw new Error(`dist/bin/${name} is missing: run pnpm build first`);
  }
  const emulator = await startEmulator(options);
  const dir = mkdtempSync(join(tmpdir(), "kcp-e2e-"));
  let runs = 0;
  return {
    emulator,
    config(name, edit = (text) => text, vars = {}) {
      const values: Record<string, string> = { API_KEY_FILE: emulator.example.apiKeyFile, ...vars };
      const text = readFileSync(join(testdata, name), "utf8").replace(
        /\{\{([A-Z_]+)\}\}/g,
        (whole, key: string) => {
          const value = values[key];
          if (value === undefined) throw new Error(`testdata/${name}: no value for ${whole}`);
          return value;
        },
      );
      const path = join(dir, `${runs++}-${name}`);
      writeFileSync(path, edit(text));
      return path;
    },
    file(name, content) {
      const path = join(dir, `${runs++}-${name}`);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    async lookup(config, images, options = {}) {
      const stderrDir = join(dir, `run-${runs++}`);
      const args = ["lookup", "--config", config, "--bin-dir", binDir, "--output", "json"];
      args.push("--plugin-stderr-dir", stderrDir, ...(options.flags ?? []), ...images);
      const result = await _run(sim, args, { ...emulator.env(), ...options.env });
      const pluginStderr = existsSync(stderrDir)
        ? readdirSync(stderrDir)
            .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
            .map((file) => readFileSync(join(stderrDir, file), "utf8"))
        : [];
      let entries: LookupEntry[] = [];
      try {
        entries = JSON.parse(result.stdout) as LookupEntry[];
      } catch {
        // Left empty: the test's assertions on code and stderr say what went wrong.
      }
      const execCounts: Record<string, number> = {};
      for (const match of result.stderr.matchAll(/^executed (\S+) (\d+) times?$/gm)) {
        execCounts[match[1] as string] = Number(match[2]);
      }
      return { ...result, pluginStderr, entries, execCounts };
    },
    async doctor(args) {
      const result = await _run(sim, ["doctor", ...args], emulator.env());
      return { ...result, pluginStderr: [], entries: [], execCounts: {} };
    },
    async verify(image, username, password) {
      const result = await _run(
        sim,
        ["verify", image, "--username", username, "--password-stdin"],
        emulator.env(),
        {
          stdin: `${password}\n`,
        },
      );
      return { ...result, pluginStderr: [], entries: [], execCounts: {} };
    },
    expectNoLeaks(run) {
      const printed = [run.stdout, run.stderr, ...run.pluginStderr].join("\n");
      const leaked = emulator.issued().filter((secret) => printed.includes(secret));
      if (leaked.length > 0) {
        throw new Error(
          `issued secrets leaked into output: ${leaked.map((s) => `${s.slice(0, 12)}…`).join(", ")}`,
        );
      }
    },
    async close() {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function _run(
  file: string,
  args: string[],
  env: Record<string, string>,
  options: { stdin?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end(options.stdin ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}
