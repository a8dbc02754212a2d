/**
 * Logging to stderr in klog's shape (`I1122 19:28:01.123456 4242 name] message`), with klog's
 * verbosity levels. stdout belongs to the protocol, so nothing here can write to it, and every
 * line passes through the secret registry.
 */
import type { SecretRegistry } from "./secrets.ts";

/** Where log lines go: stderr in a provider, anything with `write` in a test. */
export interface LogSink {
  write(chunk: string): unknown;
}

/**
 * The logger of `context.log`: `v(level, message)` logs at a klog verbosity, the others always.
 */
export interface Logger {
  /** The `-v` level the provider runs at. */
  readonly verbosity: number;
  /** True when messages at `level` are printed; check it before building an expensive message. */
  enabled(level: number): boolean;
  /** Printed at verbosity `level` and above (klog's `V(level).Info`). */
  v(level: number, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  name: string;
  verbosity: number;
  secrets: SecretRegistry;
  sink: LogSink;
  now?: () => Date;
  pid?: number;
}

/**
 * The stderr logger a provider is given as `context.log`: klog-style verbosity, one line per
 * message, every registered secret masked.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { name, verbosity, secrets, sink } = options;
  const now = options.now ?? (() => new Date());
  const pid = options.pid ?? process.pid;
  const write = (severity: "I" | "W" | "E", message: string) => {
    sink.write(`${toSafeLine(`${severity}${_klogTime(now())} ${pid} ${name}] ${message}`, secrets)}\n`);
  };
  return {
    verbosity,
    enabled: (level) => verbosity >= level,
    v: (level, message) => {
      if (verbosity >= level) write("I", message);
    },
    info: (message) => write("I", message),
    warn: (message) => write("W", message),
    error: (message) => write("E", message),
  };
}

/**
 * Makes text safe for one stderr line: secrets masked, line breaks and other control characters
 * escaped (an error body from a remote server must not forge log lines or drive a terminal).
 */
export function toSafeLine(text: string, secrets: SecretRegistry): string {
  const escaped = secrets
    .redact(text)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    });
  // Escaping can itself spell a secret that contains a backslash sequence: redact once more.
  return secrets.redact(escaped);
}

function _klogTime(date: Date): string {
  const p2 = (n: number) => String(n).padStart(2, "0");
  const micros = String(date.getMilliseconds() * 1000).padStart(6, "0");
  return `${p2(date.getMonth() + 1)}${p2(date.getDate())} ${p2(date.getHours())}:${p2(date.getMinutes())}:${p2(date.getSeconds())}.${micros}`;
}
