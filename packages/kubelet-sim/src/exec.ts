/**
 * Running a plugin as the kubelet does (`execPlugin.ExecPlugin` and `runPlugin` in plugin.go):
 * `<bin-dir>/<name>` with exactly the configured args and no shell, the kubelet's environment plus
 * the config's env entries (a config entry wins over an inherited variable of the same name), the
 * request on stdin, stdout and stderr collected, and the process killed at the deadline (the
 * kubelet's is a fixed 1 minute).
 *
 * Two differences, both about cleaning up: the plugin runs in its own process group and the whole
 * group is killed at the deadline (the kubelet kills only the plugin, and then waits for any child
 * that still holds its stdout); and stdout and stderr are capped, a plugin that writes more being
 * killed as at the deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants, statSync } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";

/** The kubelet's fixed plugin timeout. */
export const KUBELET_PLUGIN_TIMEOUT_MS = 60_000;
/** How much stdout or stderr the simulator keeps before it kills a plugin. */
export const MAX_PLUGIN_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * The executable the kubelet runs for a provider, `exec.LookPath(filepath.Join(binDir, name))`: on
 * Linux the joined path itself. On Windows LookPath also tries each PATHEXT extension (Go's default:
 * .com, .exe, .bat, .cmd), so a provider named `acr-credential-provider` runs
 * `acr-credential-provider.exe` (kubernetes#120291; the kubelet's plugin.go does so from 1.33 on,
 * at least). A name that has an extension is tried as it is first. When nothing is there, the
 * joined path, which the kubelet's error names.
 */
export function pluginPath(
  binDir: string,
  name: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const path = join(binDir, name);
  if (platform !== "win32") return path;
  const isFile = (candidate: string) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  const dot = path.lastIndexOf(".");
  const hasExtension = dot > Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"), path.lastIndexOf(":"));
  if (hasExtension && isFile(path)) return path;
  const extensions = env.PATHEXT
    ? env.PATHEXT.toLowerCase()
        .split(";")
        .filter((extension) => extension !== "")
        .map((extension) => (extension.startsWith(".") ? extension : `.${extension}`))
    : [".com", ".exe", ".bat", ".cmd"];
  return extensions.map((extension) => path + extension).find(isFile) ?? path;
}

/** How to run one plugin. */
export interface PluginRun {
  /** The executable: {@link pluginPath}. */
  path: string;
  args: readonly string[];
  /** The complete environment of the plugin. */
  env: Readonly<Record<string, string>>;
  /** The request, written to stdin, which is then closed. */
  stdin: string;
  timeoutMs: number;
  maxOutputBytes?: number;
}

/** What happened. */
export interface PluginRunResult {
  stdout: Buffer;
  stderr: Buffer;
  /** The exit status, or null when the plugin was ended by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when stdout or stderr passed the cap and the plugin was killed. */
  outputTooLarge: boolean;
  /** Set when the executable could not be started. */
  spawnError?: NodeJS.ErrnoException;
}

const _running = new Set<ChildProcess>();

/** Runs one plugin to its end (or its deadline). Never rejects. */
export function runPluginProcess(run: PluginRun): Promise<PluginRunResult> {
  const maxBytes = run.maxOutputBytes ?? MAX_PLUGIN_OUTPUT_BYTES;
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    const result: Omit<PluginRunResult, "stdout" | "stderr"> = {
      exitCode: null,
      signal: null,
      timedOut: false,
      outputTooLarge: false,
    };
    let child: ChildProcess;
    try {
      child = spawn(run.path, [...run.args], {
        env: run.env,
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group, so that the deadline ends the plugin's children too.
        detached: true,
        shell: false,
      });
    } catch (error) {
      resolve({ ...result, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), spawnError: error as Error });
      return;
    }
    _running.add(child);

    let settled = false;
    let exited = false;
    let lingering: NodeJS.Timeout | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(lingering);
      _running.delete(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ ...result, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    };
    const deadline = setTimeout(() => {
      result.timedOut = true;
      _killGroup(child);
    }, run.timeoutMs);

    const collect = (stream: "stdout" | "stderr", chunks: Buffer[]) => (chunk: Buffer) => {
      if (sizes[stream] >= maxBytes) return;
      sizes[stream] += chunk.length;
      chunks.push(
        sizes[stream] > maxBytes ? chunk.subarray(0, chunk.length - (sizes[stream] - maxBytes)) : chunk,
      );
      if (sizes[stream] >= maxBytes && !result.outputTooLarge) {
        result.outputTooLarge = true;
        _killGroup(child);
      }
    };
    child.stdout?.on("data", collect("stdout", stdout));
    child.stderr?.on("data", collect("stderr", stderr));
    // A plugin that exits without reading its request closes the pipe: not an error, as in Go.
    child.stdin?.on("error", () => {});
    child.stdin?.end(run.stdin);

    child.once("error", (error: NodeJS.ErrnoException) => {
      if (!exited) {
        result.spawnError = error;
        finish();
      }
    });
    child.once("exit", (code, signal) => {
      exited = true;
      result.exitCode = code;
      result.signal = signal;
      // Output may still be on its way; a grandchild holding the pipes open is not waited for long.
      lingering = setTimeout(finish, 1_000);
    });
    child.once("close", () => {
      if (exited) finish();
    });
  });
}

/** Kills every plugin still running (for Ctrl-C). */
export function killRunningPlugins(): void {
  for (const child of _running) _killGroup(child);
}

function _killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * The kubelet's error for a run that failed, or undefined when the plugin exited 0 in time:
 * `error execing credential provider plugin NAME for image IMAGE: REASON: STDERR`, where REASON is
 * `context deadline exceeded`, `exit status N`, `signal: killed` or the exec failure.
 */
export function runFailure(
  name: string,
  image: string,
  run: PluginRunResult,
  path: string,
): string | undefined {
  let reason: string | undefined;
  if (run.timedOut) reason = "context deadline exceeded";
  else if (run.spawnError !== undefined) reason = `fork/exec ${path}: ${_errnoText(run.spawnError)}`;
  else if (run.outputTooLarge)
    reason = `output larger than ${MAX_PLUGIN_OUTPUT_BYTES} bytes (the simulator's limit)`;
  else if (run.signal !== null) reason = `signal: ${_signalText(run.signal)}`;
  else if (run.exitCode !== 0) reason = `exit status ${run.exitCode}`;
  if (reason === undefined) return undefined;
  return `error execing credential provider plugin ${name} for image ${image}: ${reason}: ${run.stderr.toString("utf8")}`;
}

/**
 * What the kubelet checks before it starts: the bin dir exists and every provider's executable is
 * in it. The kubelet refuses to start otherwise.
 *
 * @returns the kubelet's error text, or undefined when all is in place.
 */
export async function checkPluginBinaries(
  binDir: string,
  names: readonly string[],
): Promise<string | undefined> {
  try {
    await stat(binDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return `plugin binary directory ${binDir} did not exist`;
    }
    return `error inspecting binary directory ${binDir}: ${_errnoText(error as NodeJS.ErrnoException)}`;
  }
  for (const name of names) {
    const path = pluginPath(binDir, name);
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      await access(path, constants.X_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return `plugin binary executable ${path} did not exist`;
      return `error inspecting binary executable ${path}: exec: ${JSON.stringify(path)}: ${_errnoText(error as NodeJS.ErrnoException)}`;
    }
  }
  return undefined;
}

/** Go's text for the errno values met when starting a program. */
function _errnoText(error: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOEXEC: "exec format error",
    EISDIR: "is a directory",
    ENOTDIR: "not a directory",
  };
  return texts[error.code ?? ""] ?? error.message;
}

/** Go's os.Signal names for the signals a plugin is likely to die of. */
function _signalText(signal: NodeJS.Signals): string {
  const texts: Partial<Record<NodeJS.Signals, string>> = {
    SIGKILL: "killed",
    SIGTERM: "terminated",
    SIGINT: "interrupt",
    SIGHUP: "hangup",
    SIGSEGV: "segmentation fault",
    SIGABRT: "aborted",
    SIGPIPE: "broken pipe",
    SIGQUIT: "quit",
    SIGBUS: "bus error",
    SIGILL: "illegal instruction",
    SIGFPE: "floating point exception",
  };
  return texts[signal] ?? signal;
}
