/**
 * Command-line parsing with the conventions of the Go plugins (pflag and klog): `--name=value`,
 * `--name value`, `-v 4`, `--v=4`, `-v4`, booleans as `--name` or `--name=false`, `--` ending the
 * flags. The Go `flag` package's single-dash long form (`-name value`) is accepted too, since
 * kubelet configs written for either style exist. Unknown flags are errors.
 */
import { parseDurationNanos } from "./duration.ts";
import { CredentialProviderError } from "./errors.ts";

/** A flag with a value (`--flag VALUE` or `--flag=VALUE`). */
export interface StringFlag {
  type: "string";
  description: string;
  default?: string;
  /** Shown in --help as `--name PLACEHOLDER`. */
  placeholder?: string;
  /** A one-letter alias, `-x VALUE`, as pflag's shorthand. */
  short?: string;
}

/** A flag without a value (`--flag`, or `--flag=false`). */
export interface BooleanFlag {
  type: "boolean";
  description: string;
  default?: boolean;
  short?: string;
}

/** A repeatable flag whose values are also split on commas, like pflag's StringSlice. */
export interface ListFlag {
  type: "list";
  description: string;
  placeholder?: string;
  short?: string;
}

/** One flag of a provider's command line: a string, a boolean or a list. */
export type FlagSpec = StringFlag | BooleanFlag | ListFlag;
/** A provider's flags, by name (without the leading `--`). */
export type FlagSpecs = Record<string, FlagSpec>;

/** The parsed value of each declared flag. */
export type FlagValues<F extends FlagSpecs> = {
  [K in keyof F]: F[K] extends BooleanFlag
    ? boolean
    : F[K] extends ListFlag
      ? string[]
      : F[K] extends { default: string }
        ? string
        : string | undefined;
};

/** A positional argument of a provider's command line (ACR's azure.json path, say). */
export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
}

export interface ParsedArgs<F extends FlagSpecs> {
  flags: FlagValues<F>;
  positionals: string[];
  help: boolean;
  version: boolean;
  verbosity: number;
  deadlineMs: number;
}

/** What the command line of a provider takes: its flags and positional arguments. */
export interface ArgsSpec<F extends FlagSpecs> {
  flags: F;
  positionals: readonly PositionalSpec[];
  /** Extra positional arguments are ignored rather than refused (some Go plugins take a verb). */
  allowExtraPositionals: boolean;
}

/** The default time a provider has to answer: well inside the kubelet's fixed 1 minute. */
export const DEFAULT_DEADLINE_MS = 50_000;
const MAX_DEADLINE_MS = 59_000;

export const builtinFlags = {
  help: { type: "boolean", description: "Print this help and exit.", short: "h" },
  version: { type: "boolean", description: "Print the version and exit." },
  v: { type: "string", description: "Log verbosity on stderr, 0 to 10 (klog levels).", placeholder: "N" },
  deadline: {
    type: "string",
    description: "Give up and fail after this long (Go duration, at most 59s; the kubelet kills us at 1m).",
    placeholder: "DURATION",
  },
} as const;

/**
 * klog's other flags, which the Go plugins built on k8s.io/component-base take (`--vmodule`,
 * `--log_dir`, ...; `_` and `-` alike, as its flag normalisation allows): accepted, so that a
 * kubelet config written for those plugins keeps working, and ignored: logs always go to stderr.
 */
export const klogFlags: Readonly<Record<string, "string" | "boolean">> = {
  "add-dir-header": "boolean",
  alsologtostderr: "boolean",
  "log-backtrace-at": "string",
  "log-dir": "string",
  "log-file": "string",
  "log-file-max-size": "string",
  "log-flush-frequency": "string",
  logtostderr: "boolean",
  "one-output": "boolean",
  "skip-headers": "boolean",
  "skip-log-headers": "boolean",
  stderrthreshold: "string",
  vmodule: "string",
};

export function parseArgs<F extends FlagSpecs>(argv: readonly string[], spec: ArgsSpec<F>): ParsedArgs<F> {
  for (const name of Object.keys(spec.flags)) {
    if (name in builtinFlags) throw new Error(`flag --${name} is built in; a provider cannot declare it`);
  }
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  let onlyPositionals = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    let name = eq === -1 ? body : body.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    // Short forms with the value attached, as pflag allows: -v4, -v=4.
    if (!arg.startsWith("--") && !_isKnown(name, spec.flags) && /^v\d+$/.test(name)) {
      value = name.slice(1);
      name = "v";
    }
    if (name === "h") name = "help";
    if (!arg.startsWith("--")) name = _longName(name, spec.flags);
    const type = _typeOf(name, spec.flags);
    if (!type) throw new CredentialProviderError("USAGE", `unknown flag ${_quote(arg)} (see --help)`);
    if (value === undefined && type !== "boolean") {
      const next = argv[i + 1];
      if (next === undefined) throw new CredentialProviderError("USAGE", `flag --${name} needs a value`);
      value = next;
      i++;
    }
    const values = raw.get(name) ?? [];
    values.push(value ?? "true");
    raw.set(name, values);
  }

  const flags: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const values = raw.get(name);
    if (flag.type === "list") {
      flags[name] = (values ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "");
    } else if (flag.type === "boolean") {
      flags[name] =
        values === undefined ? (flag.default ?? false) : _parseBoolean(name, values.at(-1) as string);
    } else {
      flags[name] = values === undefined ? flag.default : values.at(-1);
    }
  }

  for (const [name, values] of raw) {
    if (_typeOf(name, {}) === "boolean" && !Object.hasOwn(builtinFlags, name)) {
      _parseBoolean(name, values.at(-1) as string);
    }
  }

  const last = (name: string) => raw.get(name)?.at(-1);
  const help = raw.has("help") && _parseBoolean("help", last("help") as string);
  const version = raw.has("version") && _parseBoolean("version", last("version") as string);
  const required = spec.positionals.filter((p) => p.required).length;
  // --help and --version answer without the arguments a request needs.
  if (!help && !version && positionals.length < required) {
    const missing = spec.positionals[positionals.length] as PositionalSpec;
    throw new CredentialProviderError("USAGE", `missing argument ${missing.name.toUpperCase()} (see --help)`);
  }
  if (positionals.length > spec.positionals.length && !spec.allowExtraPositionals) {
    const extra = positionals[spec.positionals.length] as string;
    throw new CredentialProviderError("USAGE", `unexpected argument ${_quote(extra)} (see --help)`);
  }

  return {
    flags: flags as FlagValues<F>,
    positionals,
    help,
    version,
    verbosity: _parseVerbosity(last("v")),
    deadlineMs: _parseDeadline(last("deadline")),
  };
}

function _isKnown(name: string, flags: FlagSpecs): boolean {
  return _typeOf(name, flags) !== undefined;
}

function _typeOf(name: string, flags: FlagSpecs): FlagSpec["type"] | undefined {
  if (Object.hasOwn(builtinFlags, name)) return builtinFlags[name as keyof typeof builtinFlags].type;
  if (Object.hasOwn(flags, name)) return flags[name]?.type;
  const klog = name.replaceAll("_", "-");
  return Object.hasOwn(klogFlags, klog) ? klogFlags[klog] : undefined;
}

/** The flag a one-letter `-x` stands for, if a declared flag takes it as its shorthand. */
function _longName(name: string, flags: FlagSpecs): string {
  if (name.length !== 1 || Object.hasOwn(flags, name)) return name;
  return Object.entries(flags).find(([, flag]) => flag.short === name)?.[0] ?? name;
}

function _parseBoolean(name: string, value: string): boolean {
  if (/^(true|t|1)$/i.test(value)) return true;
  if (/^(false|f|0)$/i.test(value)) return false;
  throw new CredentialProviderError("USAGE", `flag --${name} takes true or false, not ${_quote(value)}`);
}

function _parseVerbosity(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,3}$/.test(value)) {
    throw new CredentialProviderError("USAGE", `flag -v takes a number from 0 to 10, not ${_quote(value)}`);
  }
  return Math.min(Number(value), 10);
}

function _parseDeadline(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DEADLINE_MS;
  let ms: number;
  try {
    ms = Number(parseDurationNanos(value) / 1_000_000n);
  } catch {
    throw new CredentialProviderError(
      "USAGE",
      `flag --deadline takes a Go duration such as 30s, not ${_quote(value)}`,
    );
  }
  if (ms <= 0 || ms > MAX_DEADLINE_MS) {
    throw new CredentialProviderError(
      "USAGE",
      `flag --deadline must be more than 0s and at most 59s, not ${value}`,
    );
  }
  return ms;
}

function _quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
