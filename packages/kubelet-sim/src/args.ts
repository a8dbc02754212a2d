/**
 * Command-line parsing with the conventions of core's providers (pflag's): `--name=value`,
 * `--name value`, booleans as `--name` or `--name=false`, repeatable flags, `--` ending the flags,
 * `-h` for `--help`. Unknown flags are errors.
 */

/** One flag of a command. */
export interface FlagDef {
  type: "string" | "boolean" | "list";
  description: string;
  /** Shown in --help as `--name PLACEHOLDER`. */
  placeholder?: string;
}

export type FlagDefs = Readonly<Record<string, FlagDef>>;

/** A mistake on the command line: one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The parsed command line. */
export interface ParsedArgs {
  strings: Map<string, string>;
  booleans: Map<string, boolean>;
  lists: Map<string, string[]>;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** The value of a string flag that must be given. @throws UsageError */
export function requiredFlag(args: ParsedArgs, name: string): string {
  const value = args.strings.get(name);
  if (value === undefined || value === "") throw new UsageError(`flag --${name} is required`);
  return value;
}

/** Refuses positional arguments beyond the first `count`. @throws UsageError */
export function noMorePositionals(args: ParsedArgs, count: number): void {
  const extra = args.positionals[count];
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
}

const _BUILTIN: FlagDefs = {
  help: { type: "boolean", description: "Print this help and exit." },
  version: { type: "boolean", description: "Print the version and exit." },
};

/** Parses `argv` against `defs` (plus --help and --version). @throws UsageError */
export function parseArgs(argv: readonly string[], defs: FlagDefs): ParsedArgs {
  const parsed: ParsedArgs = {
    strings: new Map(),
    booleans: new Map(),
    lists: new Map(),
    positionals: [],
    help: false,
    version: false,
  };
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      parsed.positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const body = arg === "-h" ? "help" : arg.startsWith("--") ? arg.slice(2) : "";
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    const def = Object.hasOwn(defs, name)
      ? defs[name]
      : Object.hasOwn(_BUILTIN, name)
        ? _BUILTIN[name]
        : undefined;
    if (name === "" || def === undefined) throw new UsageError(`unknown flag ${JSON.stringify(arg)}`);
    if (def.type === "boolean") {
      const on = value === undefined ? true : _boolean(name, value);
      if (name === "help") parsed.help = on;
      else if (name === "version") parsed.version = on;
      else parsed.booleans.set(name, on);
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag --${name} needs a value`);
      value = next;
      i++;
    }
    if (def.type === "list") parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), value]);
    else parsed.strings.set(name, value);
  }
  return parsed;
}

function _boolean(name: string, value: string): boolean {
  if (/^(true|t|1)$/i.test(value)) return true;
  if (/^(false|f|0)$/i.test(value)) return false;
  throw new UsageError(`flag --${name} takes true or false, not ${JSON.stringify(value)}`);
}

/** The flags part of a --help text. */
export function flagHelp(defs: FlagDefs): string[] {
  const rows = Object.entries({ ...defs, ..._BUILTIN }).map(([name, def]) => [
    def.type === "boolean" ? `--${name}` : `--${name} ${def.placeholder ?? "VALUE"}`,
    def.type === "list" ? `${def.description} (repeatable)` : def.description,
  ]);
  const width = Math.max(...rows.map(([left = ""]) => left.length));
  return rows.map(([left = "", right = ""]) => `  ${left.padEnd(width)}  ${right}`);
}
