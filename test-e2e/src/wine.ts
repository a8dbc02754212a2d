/**
 * The Windows executables under Wine, for the e2e suite: a Wine prefix of its own, and a launcher
 * (windows/kubelet-exec.c) that gives each executable real Windows pipes for stdin, stdout and
 * stderr, as the kubelet's Go runtime does on a Windows node. A run's stdout and stderr are the
 * bytes the executable wrote on those pipes; Wine's own messages are kept apart. Both C files are compiled here with
 * Debian's mingw-w64. Wine 8 (Debian bookworm) lacks bcryptprimitives.dll, which the Bun runtime
 * needs: the prefix gets windows/bcryptprimitives.c's stand-in where Wine has none of its own.
 *
 * Needs wine64 and gcc-mingw-w64-x86-64 (.ci/install-test-deps installs them); {@link wineTools}
 * says which is missing.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const SOURCES = resolve(import.meta.dirname, "../windows");
const WINE_CANDIDATES = ["/usr/lib/wine/wine64", "/usr/bin/wine64", "/usr/bin/wine"];
const GCC = "x86_64-w64-mingw32-gcc";

export interface WineRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Wine {
  /** Runs a Windows executable (a Linux path) through the launcher, with `stdin` on a real pipe. */
  run(
    exe: string,
    args: readonly string[],
    options?: { stdin?: string; env?: Record<string, string> },
  ): Promise<WineRun>;
  /** The Linux directory that is the prefix's C: drive. */
  driveC: string;
  close(): void;
}

/** The Wine loader and mingw's compiler, or what is missing. */
export function wineTools(): { wine: string; gcc: string } | { missing: string } {
  const wine = WINE_CANDIDATES.find((path) => existsSync(path));
  const gcc = spawnSync(GCC, ["--version"], { stdio: "ignore" }).status === 0;
  if (!wine || !gcc) {
    const missing = [!wine && "wine64", !gcc && "gcc-mingw-w64-x86-64"].filter(Boolean).join(" and ");
    return { missing: `${missing} (apt-get install wine64 gcc-mingw-w64-x86-64-win32)` };
  }
  return { wine, gcc: GCC };
}

/** A Windows path for a Linux one: Wine's Z: drive is the Linux root. */
export const windowsPath = (path: string) => `Z:${path.replaceAll("/", "\\")}`;

export function startWine(tools: { wine: string; gcc: string }): Wine {
  const dir = mkdtempSync(join(tmpdir(), "kcp-wine-"));
  const prefix = join(dir, "prefix");
  const base = {
    PATH: "/usr/bin:/bin",
    HOME: dir,
    WINEPREFIX: prefix,
    WINEDEBUG: "-all",
    // No Mono or Gecko installer prompts while the prefix is made.
    WINEDLLOVERRIDES: "mscoree,mshtml=",
  };
  const compile = (source: string, output: string, extra: string[]) => {
    const built = spawnSync(
      tools.gcc,
      ["-O2", "-s", "-Wall", "-o", output, join(SOURCES, source), ...extra],
      {
        encoding: "utf8",
      },
    );
    if (built.status !== 0) throw new Error(`${tools.gcc} ${source} failed:\n${built.stderr}`);
  };
  const wineserver = join(tools.wine, "../wineserver");
  const launcher = join(dir, "kubelet-exec.exe");
  compile("kubelet-exec.c", launcher, []);
  // Debian's wineserver wrapper passes -p0: the server, and the Windows system processes of its
  // session (services.exe, winedevice.exe, rpcss.exe, ...), end as soon as the last program does.
  // Every run would then boot a new session (about 2.5 s), the system processes it starts would
  // inherit that run's stdout and stderr, and a run could start while the previous server shuts
  // down. One server for the whole prefix instead, with the session booted where nothing of ours
  // is on its descriptors; it ends 5 minutes after its last program if close() is never reached.
  mkdirSync(prefix);
  const server = spawnSync(wineserver, ["-p300"], { env: base, stdio: "ignore", timeout: 30_000 });
  if (server.status !== 0) throw new Error(`wineserver -p300 failed (exit ${server.status})`);
  const bootLog = join(dir, "wineboot.log");
  const logFd = openSync(bootLog, "w");
  const boot = spawnSync(tools.wine, ["wineboot", "--init"], {
    env: base,
    stdio: ["ignore", logFd, logFd],
    timeout: 180_000,
  });
  closeSync(logFd);
  if (boot.status !== 0) {
    throw new Error(`wineboot failed (exit ${boot.status}): ${readFileSync(bootLog, "utf8").slice(-4000)}`);
  }
  const system32 = join(prefix, "drive_c/windows/system32");
  if (!existsSync(join(system32, "bcryptprimitives.dll"))) {
    const stub = join(dir, "bcryptprimitives.dll");
    compile("bcryptprimitives.c", stub, ["-shared", "-lbcrypt"]);
    mkdirSync(system32, { recursive: true });
    copyFileSync(stub, join(system32, "bcryptprimitives.dll"));
  }
  let count = 0;
  const launch = (exe: string, args: readonly string[], stdin: string, env: Record<string, string>) => {
    const runDir = join(dir, `run-${++count}`);
    mkdirSync(runDir);
    writeFileSync(join(runDir, "stdin"), stdin);
    const read = (name: string) => {
      const path = join(runDir, name);
      return existsSync(path) ? readFileSync(path, "utf8") : "";
    };
    return new Promise<WineRun & { status: string; wine: string; ms: number }>((resolveRun, reject) => {
      const started = performance.now();
      // From a Linux directory, Wine's current drive is Z:, so the absolute Linux paths of the
      // suite's files (in arguments and the environment) name the same files.
      const child = spawn(tools.wine, [launcher, windowsPath(runDir), windowsPath(exe), ...args], {
        env: { ...base, ...env },
        cwd: dir,
      });
      // Wine's own messages, and the launcher's if it fails: not the executable's.
      let wine = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (wine += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (wine += chunk));
      child.on("error", reject);
      child.on("close", (code) =>
        resolveRun({
          code,
          stdout: read("stdout"),
          stderr: read("stderr"),
          status: read("status"),
          wine,
          ms: Math.round(performance.now() - started),
        }),
      );
    });
  };
  return {
    driveC: join(prefix, "drive_c"),
    async run(exe, args, options = {}) {
      const stdin = options.stdin ?? "";
      const env = options.env ?? {};
      const { status, wine, ms, ...run } = await launch(exe, args, stdin, env);
      // Every run of the suite prints something; a failure with no output at all is Wine's or the
      // launcher's, not the executable's. Fail with what tells them apart: the launcher's status
      // lines, Wine's messages, and the same run again with Wine's error channels on (a
      // diagnosis, not a retry).
      if (run.code !== 0 && run.stdout === "" && run.stderr === "") {
        const again = await launch(exe, args, stdin, { ...env, WINEDEBUG: "err+all,+loaddll,+process" });
        throw new Error(
          [
            `Wine run of ${exe} ${args.join(" ")} ended with exit ${run.code} and no output after ${ms} ms`,
            `launcher status: ${status.trim() || "(none: the launcher never ran)"}`,
            `Wine's messages: ${wine.trim() || "(none)"}`,
            `the same run with WINEDEBUG=err+all,+loaddll,+process: exit ${again.code} after ${again.ms} ms`,
            `launcher status: ${again.status.trim() || "(none)"}`,
            `stdout: ${again.stdout.slice(0, 2000)}`,
            `stderr: ${again.stderr.slice(0, 2000)}`,
            `Wine's messages (last 6000 characters): ${again.wine.slice(-6000)}`,
          ].join("\n"),
        );
      }
      return run;
    },
    close() {
      spawnSync(wineserver, ["-k"], { env: base, stdio: "ignore", timeout: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
