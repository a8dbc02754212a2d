/**
 * `runProvider`: the only code that touches stdin, stdout and the exit status. Whatever a provider
 * does, the kubelet sees either exactly one valid JSON line on stdout and status 0, or nothing on
 * stdout, one line on stderr and status 1.
 */
import type { FlagSpecs, ParsedArgs } from "./args.ts";
import { parseArgs } from "./args.ts";
import { versionLine } from "./build-info.ts";
import type { Provider, ProviderContext } from "./define.ts";
import { formatDuration } from "./duration.ts";
import {
  CredentialProviderError,
  describeErrorCode,
  exitCodeFor,
  toCredentialProviderError,
} from "./errors.ts";
import { renderHelp } from "./help.ts";
import { createHttpClient } from "./http.ts";
import type { LogSink } from "./log.ts";
import { createLogger, toSafeLine } from "./log.ts";
import { decodeRequest, encodeResponse } from "./request.ts";
import { SecretRegistry } from "./secrets.ts";

/** Where the harness reads and writes; the default is the process. Tests pass their own. */
export interface ProviderIo {
  argv: readonly string[];
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(chunk: string, callback?: (error?: Error | null) => void): unknown };
  stderr: LogSink;
  env: Readonly<Record<string, string | undefined>>;
  /** Ends the run. The default io exits the process; nothing else in the project does. */
  exit(code: number): void;
  /** How long to wait for the request on stdin. */
  readTimeoutMs?: number;
  /** Also turn uncaught exceptions and unhandled rejections into a clean failure. */
  guardProcess?: boolean;
  /**
   * True when an answer written to stdout cannot reach anyone. Node reopens a closed stdout on
   * /dev/null before any code runs, so a closed stdout shows as /dev/null.
   */
  answerIsLost?: () => boolean;
}

/** The kubelet's request is a few hundred bytes; a megabyte means something else is on stdin. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** The kubelet writes the request and closes stdin as it starts us; waiting longer is futile. */
export const DEFAULT_READ_TIMEOUT_MS = 2_000;

export function processIo(): ProviderIo {
  // stderr belongs to the harness's redacting logger. Anything else that writes there (Node's
  // NODE_DEBUG tracing, which dumps response buffers in hex; an SDK's console logging) could print
  // a secret around the redaction, so the process's own stderr.write is muted and the logger keeps
  // the original.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  // A failed write of the answer is reported through write's callback; the stream's error event
  // must not also reach the uncaught-exception guard.
  process.stdout.on("error", () => {});
  return {
    argv: process.argv.slice(2),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: { write: (chunk: string) => write(chunk) },
    answerIsLost: _stdoutIsDevNull,
    env: process.env,
    // biome-ignore lint/nursery/noProcessExit: the one place in a provider that ends the process.
    exit: (code) => process.exit(code),
    guardProcess: true,
  };
}

/**
 * Runs a provider as the kubelet execs it: flags from argv, one request from stdin, one response
 * on stdout. Resolves with the exit status after calling `io.exit` with it.
 */
export function runProvider<F extends FlagSpecs>(provider: Provider<F>, io?: ProviderIo): Promise<number> {
  return _run(provider, io ?? processIo());
}

async function _run<F extends FlagSpecs>(provider: Provider<F>, io: ProviderIo): Promise<number> {
  const secrets = new SecretRegistry();
  let settled = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  const finish = (code: number, stdout?: string) => {
    if (settled) return;
    settled = true;
    const end = () => {
      io.exit(code);
      resolveDone(code);
    };
    if (stdout === undefined) return end();
    try {
      io.stdout.write(stdout, (error) => (error ? reportLost(_writeError(error)) : end()));
    } catch (error) {
      reportLost(_writeError(error));
    }
  };
  // The answer did not reach the kubelet: a success nobody saw is a failure.
  const reportLost = (why: string) => {
    io.stderr.write(`${provider.name}: ${describeErrorCode("INTERNAL")}: cannot write the answer: ${why}\n`);
    io.exit(1);
    resolveDone(1);
  };
  const fail = (error: unknown) => {
    const typed = toCredentialProviderError(error);
    const line = `${provider.name}: ${describeErrorCode(typed.code)}: ${typed.message}`;
    io.stderr.write(`${toSafeLine(line, secrets)}\n`);
    finish(exitCodeFor(typed.code));
  };

  let cleanup = () => {};
  if (io.guardProcess) cleanup = _guardProcess(fail);
  done.finally(() => cleanup());

  let args: ParsedArgs<F>;
  try {
    args = parseArgs(io.argv, provider);
  } catch (error) {
    fail(error);
    return done;
  }
  if (args.help || args.version) {
    finish(0, args.help ? renderHelp(provider) : `${versionLine(provider.name, provider.version)}\n`);
    return done;
  }

  const log = createLogger({ name: provider.name, verbosity: args.verbosity, secrets, sink: io.stderr });
  const controller = new AbortController();
  const deadline = Date.now() + args.deadlineMs;
  // A ref'd timer, unlike AbortSignal.timeout's: it keeps the process alive until the deadline, so
  // a provider awaiting a promise that never settles cannot let the process drain and exit 0.
  const timer = setTimeout(() => {
    controller.abort(
      new CredentialProviderError(
        "TIMEOUT",
        `no answer within the deadline of ${formatDuration(args.deadlineMs / 1000)} (--deadline)`,
      ),
    );
  }, args.deadlineMs);
  done.finally(() => clearTimeout(timer));
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => {});

  (async () => {
    const text = await Promise.race([
      readRequestText(io.stdin, io.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS),
      aborted,
    ]);
    const request = decodeRequest(text, secrets);
    if (io.answerIsLost?.()) {
      throw new CredentialProviderError(
        "INTERNAL",
        "cannot write the answer: stdout is closed or /dev/null (the kubelet reads the answer from a pipe)",
      );
    }
    log.v(2, `request: apiVersion=${request.apiVersion} image=${request.image}`);
    const context: ProviderContext<F> = {
      flags: args.flags,
      positionals: args.positionals,
      signal: controller.signal,
      deadline,
      log,
      secrets,
      env: io.env,
      http: createHttpClient({
        userAgent: `${provider.name}/${provider.version}`,
        signal: controller.signal,
        deadline,
        log,
        secrets,
        env: io.env,
      }),
    };
    const result = await Promise.race([provider.getCredentials(request, context), aborted]);
    const response = encodeResponse(result, request.apiVersion, secrets);
    log.v(
      2,
      `answered: cacheKeyType=${response.cacheKeyType} cacheDuration=${response.cacheDuration ?? "(default)"} auth keys=${Object.keys(response.auth ?? {}).join(",") || "(none)"}`,
    );
    finish(0, `${JSON.stringify(response)}\n`);
  })().catch(fail);

  return done;
}

/** Reads all of stdin, within a size limit and a time limit. */
export function readRequestText(
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
  timeoutMs: number,
): Promise<string> {
  if (stdin.isTTY) {
    return Promise.reject(
      new CredentialProviderError(
        "BAD_REQUEST",
        "stdin is a terminal: the kubelet writes one CredentialProviderRequest to stdin (see --help)",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error?: Error) => {
      clearTimeout(timer);
      stdin.removeListener("data", onData);
      stdin.removeListener("end", onEnd);
      stdin.removeListener("error", onError);
      stdin.pause();
      if (error) reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_REQUEST_BYTES) {
        stop(new CredentialProviderError("BAD_REQUEST", "request on stdin is larger than 1 MiB"));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => {
      stop();
      try {
        resolve(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        reject(new CredentialProviderError("BAD_REQUEST", "request on stdin is not valid UTF-8"));
      }
    };
    const onError = (error: Error) => {
      stop(new CredentialProviderError("BAD_REQUEST", `cannot read stdin: ${error.message}`));
    };
    const timer = setTimeout(() => {
      stop(
        new CredentialProviderError(
          "BAD_REQUEST",
          `stdin was not closed within ${timeoutMs} ms: the kubelet writes one request and closes stdin`,
        ),
      );
    }, timeoutMs);
    stdin.on("data", onData);
    stdin.once("end", onEnd);
    stdin.once("error", onError);
    stdin.resume();
  });
}

function _writeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string"
    ? `stdout ${code === "EPIPE" ? "has no reader" : "failed"} (${code})`
    : "stdout failed";
}

function _stdoutIsDevNull(): boolean {
  const { fstatSync, statSync } = process.getBuiltinModule("node:fs");
  try {
    const out = fstatSync(1);
    if (!out.isCharacterDevice()) return false;
    const devNull = statSync("/dev/null");
    return out.rdev === devNull.rdev;
  } catch {
    return false;
  }
}

function _guardProcess(fail: (error: unknown) => void): () => void {
  const onUncaught = (error: unknown) => fail(error);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  return () => {
    process.removeListener("uncaughtException", onUncaught);
    process.removeListener("unhandledRejection", onUncaught);
  };
}
