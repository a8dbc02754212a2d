/**
 * The command line: `validate`, `lookup`, `doctor`, `verify` and `config set-provider|remove-provider`, as a
 * function of argv and io that returns the exit status, so that it runs in tests without a process.
 * cli.ts is the only caller that exits.
 *
 * Exit status: 0 success; 1 the answer is a failure (invalid config, a plugin that failed or was
 * not run, an invalid image, credentials not accepted); 2 a mistake on the command line.
 */
import { resolve } from "node:path";
import {
  createHttpClient,
  type HttpClient,
  parseDurationNanos,
  SecretRegistry,
  versionLine,
} from "@kubelet-credential-provider/core";
import {
  type FlagDefs,
  flagHelp,
  noMorePositionals,
  type ParsedArgs,
  parseArgs,
  requiredFlag,
  UsageError,
} from "./args.ts";
import {
  REMOVE_PROVIDER_FLAGS,
  runRemoveProvider,
  runSetProvider,
  SET_PROVIDER_FLAGS,
} from "./config-commands.ts";
import { doctorText, runDoctor } from "./doctor.ts";
import { splitWords } from "./doctor-node.ts";
import { checkPluginBinaries, KUBELET_PLUGIN_TIMEOUT_MS } from "./exec.ts";
import { KUBELET_VERSION_FLAG, type KubeletVersion, parseKubeletVersion } from "./kubelet-versions.ts";
import { createKubeletSimulator } from "./lookup.ts";
import { formatPatternWarning } from "./patterns.ts";
import { execCountLines, type LookupEntry, lookupJson, lookupSummary, lookupText } from "./report.ts";
import { messageOf, safeLine } from "./text.ts";
import type { ServiceAccount } from "./tokens.ts";
import { type ValidationReport, validateConfigPath, validSummary, warningFile } from "./validate.ts";
import { verifyCredentials, verifyEntry } from "./verify.ts";
import { NAME, VERSION } from "./version.ts";

/** Where the command line reads and writes. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: AsyncIterable<string | Uint8Array>;
  /** The simulator's environment, which plugins inherit. */
  env: Readonly<Record<string, string | undefined>>;
  /** The HTTP client for verify; default: core's, configured by `env`. */
  http?: HttpClient;
}

/** Exit statuses. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface _Writers {
  out(line: string): void;
  err(line: string): void;
}

interface _Command {
  summary: string;
  usage: string;
  about: string[];
  flags: FlagDefs;
  run(args: ParsedArgs, io: CliIo, write: _Writers, secrets: SecretRegistry): Promise<number>;
}

const _VALIDATE_FLAGS = {
  "kubelet-version": KUBELET_VERSION_FLAG,
} as const satisfies FlagDefs;

const _LOOKUP_FLAGS = {
  config: {
    type: "string",
    placeholder: "PATH",
    description:
      "The CredentialProviderConfig: a file, or (kubelet 1.34+) a directory of *.json, *.yaml, *.yml files.",
  },
  "bin-dir": {
    type: "string",
    placeholder: "DIR",
    description: "The plugin directory (the kubelet's --image-credential-provider-bin-dir).",
  },
  "service-account-token": {
    type: "string",
    placeholder: "TOKEN",
    description: "The pod's service account token; without it the pod has no service account.",
  },
  "service-account": {
    type: "string",
    placeholder: "NAMESPACE/NAME",
    description: 'The service account the token belongs to (default "default/default").',
  },
  "service-account-annotation": {
    type: "list",
    placeholder: "KEY=VALUE",
    description: "An annotation of the service account.",
  },
  timeout: {
    type: "string",
    placeholder: "DURATION",
    description: 'Kill a plugin after this long (Go duration, at most the kubelet\'s "1m", the default).',
  },
  output: { type: "string", placeholder: "text|json", description: 'The report format (default "text").' },
  "show-secrets": { type: "boolean", description: "Print passwords instead of <redacted>." },
  verify: { type: "boolean", description: "Try each image's credentials at its registry (see verify)." },
  "plugin-stderr-dir": {
    type: "string",
    placeholder: "DIR",
    description: "Keep every plugin run's raw stderr in DIR (N-NAME.stderr), also when it succeeds.",
  },
  "kubelet-version": KUBELET_VERSION_FLAG,
} as const satisfies FlagDefs;

const _DOCTOR_FLAGS = {
  root: {
    type: "string",
    placeholder: "DIR",
    description:
      "The node's filesystem root, where /proc, /etc and the kubelet's paths are read (default \"/\").",
  },
  "kubelet-flags": {
    type: "string",
    placeholder: "FLAGS",
    description: "The kubelet's command line flags, as one string, instead of finding the kubelet.",
  },
  config: {
    type: "string",
    placeholder: "PATH",
    description: "The CredentialProviderConfig, instead of the kubelet's flag.",
  },
  "bin-dir": {
    type: "string",
    placeholder: "DIR",
    description: "The plugin directory, instead of the kubelet's flag.",
  },
  image: {
    type: "list",
    placeholder: "IMAGE",
    description: "An image to look up (default: one per matchImages pattern where one can be formed).",
  },
  verify: { type: "boolean", description: "Try each image's credentials at its registry (see verify)." },
  kubeconfig: {
    type: "string",
    placeholder: "PATH",
    description:
      "The kubeconfig to ask the API server with about service account audiences (default: the kubelet's --kubeconfig).",
  },
  "service-account": {
    type: "list",
    placeholder: "NAMESPACE/NAME",
    description:
      "A pod's service account to check each audience for (default: every service account, in every namespace).",
  },
  timeout: _LOOKUP_FLAGS.timeout,
  output: _LOOKUP_FLAGS.output,
  "kubelet-version": {
    ...KUBELET_VERSION_FLAG,
    description: `${KUBELET_VERSION_FLAG.description} Default: the kubelet's own (kubelet --version, on the node itself).`,
  },
} as const satisfies FlagDefs;

const _VERIFY_FLAGS = {
  username: { type: "string", placeholder: "USER", description: "The registry username." },
  "password-stdin": { type: "boolean", description: "Read the password from stdin (required)." },
} as const satisfies FlagDefs;

const _COMMANDS: Record<string, _Command> = {
  validate: {
    summary: "check a CredentialProviderConfig with every rule of the kubelet",
    usage: `${NAME} validate [--kubelet-version MINOR] CONFIG`,
    about: [
      "Reads CONFIG as the kubelet of --kubelet-version does (a file; from 1.34 also a directory",
      "whose *.json, *.yaml and *.yml files are read in name order), decodes it strictly and applies",
      "every validation rule of that kubelet. Prints `valid: N providers from F files`, or each issue",
      "on its own line with its file and field path; then, on stderr, the error that kubelet stops",
      "with, word for word. Exit status 0 when valid, 1 when not.",
    ],
    flags: _VALIDATE_FLAGS,
    run: _validate,
  },
  lookup: {
    summary: "look up credentials for images as the kubelet does, running the plugins",
    usage: `${NAME} lookup --config PATH --bin-dir DIR [flags] IMAGE...`,
    about: [
      "For each IMAGE in order, as the kubelet does before a pull: normalise it (no tag or digest),",
      "run every provider whose matchImages match (or use its cache), decode each answer strictly,",
      "apply tokenAttributes and the cache rules, and list the credentials that match the image in",
      "the order the kubelet would try them. Caches last for the run. Ends with how many times each",
      "plugin was executed (on stderr with --output json, whose stdout is one JSON array).",
      "--kubelet-version picks the kubelet minor to agree with (how the config is read and checked,",
      "and whether a password that is the service account token is refused); default the newest.",
      "",
      "Exit status 0 when every matching provider answered (an image may still get no credential);",
      "1 when a provider failed or was not run, an image is invalid, a credential was not accepted",
      "(--verify), or the config or plugins are not in place; 2 for a usage mistake.",
    ],
    flags: _LOOKUP_FLAGS,
    run: _lookup,
  },
  doctor: {
    summary: "check a node's credential provider set-up end to end, and say what to fix",
    usage: `${NAME} doctor [--root DIR] [--kubelet-flags FLAGS | --config PATH --bin-dir DIR] [--image IMAGE]... [--verify] [--kubeconfig PATH] [--service-account NAMESPACE/NAME]... [--output text|json]`,
    about: [
      "Finds the kubelet (its running process, else its systemd unit kubelet.service with its",
      "drop-ins and environment files), its version (kubelet --version) and its",
      "--image-credential-provider-config and --image-credential-provider-bin-dir; validates the",
      "config for that kubelet; checks each provider binary (there, executable, built for this",
      "machine's architecture and C library, answers --version); warns of patterns that will not",
      "match as meant; asks the API server (with the kubelet's kubeconfig) whether the node may",
      "request tokens for each service account audience the config names; and looks up an image",
      "per pattern (or each --image) through the plugins, as the kubelet would, with --verify",
      "trying the credentials at the registry. One line per finding: ✓ ok, ! a warning, ✗ broken,",
      "each with its fix; --output json for programs.",
      "Exit status 0 when nothing is broken (warnings allowed), 1 when something is, 2 for a usage",
      "mistake.",
    ],
    flags: _DOCTOR_FLAGS,
    run: _doctor,
  },
  verify: {
    summary: "try a username and password at a registry, as a container runtime does",
    usage: `${NAME} verify IMAGE --username USER --password-stdin`,
    about: [
      "GET https://REGISTRY/v2/ for IMAGE's registry (as written: docker.io for Docker Hub images);",
      "follow a Bearer challenge to its token realm with the credentials as Basic auth and",
      "IMAGE's pull scope, or use Basic auth directly, and say whether the registry accepted them.",
      "HTTPS_PROXY, NO_PROXY and NODE_EXTRA_CA_CERTS apply. Exit status 0 when accepted, 1 when not.",
    ],
    flags: _VERIFY_FLAGS,
    run: _verify,
  },
  "config set-provider": {
    summary: "add or replace one provider entry of a config file, keeping the rest",
    usage: `${NAME} config set-provider --config FILE --provider-json JSON [--force] [--backup-dir DIR] [--dry-run] [--kubelet-version MINOR]`,
    about: [
      "Reads FILE (JSON when it starts with '{', else YAML; a missing or empty file is a new",
      "config), replaces the provider entry whose name is the given entry's, or adds it at the end,",
      "and keeps every other provider and field (in YAML, comments and layout too). The result must",
      "pass every rule of the kubelet of --kubelet-version (as validate) or nothing is written. FILE is replaced",
      "atomically with its mode and owner, after a backup FILE.bak-YYYYMMDDThhmmssZ. A .json FILE is",
      "written as JSON, a .yaml or .yml FILE as YAML, any other keeps its format. A FILE the kubelet",
      "cannot read is left alone unless --force. Prints one line: what changed, or `unchanged`.",
      "Exit status 0 when written or unchanged, 1 when refused, 2 for a usage mistake.",
    ],
    flags: SET_PROVIDER_FLAGS,
    run: (args, _io, write, secrets) => runSetProvider(args, write, secrets),
  },
  "config remove-provider": {
    summary: "remove one provider entry from a config file, keeping the rest",
    usage: `${NAME} config remove-provider --config FILE --name NAME [--allow-empty] [--backup-dir DIR] [--dry-run] [--kubelet-version MINOR]`,
    about: [
      "Removes the provider entry named NAME from FILE, with the guarantees of set-provider (the",
      "rest kept, the result checked, an atomic write after a backup). A FILE without that entry,",
      "an empty FILE or none is `unchanged` (exit 0). The kubelet does not start with no providers,",
      "so removing the last one is refused unless --allow-empty, which writes `providers: []` and",
      "warns. Exit status 0 when written or unchanged, 1 when refused, 2 for a usage mistake.",
    ],
    flags: REMOVE_PROVIDER_FLAGS,
    run: (args, _io, write, secrets) => runRemoveProvider(args, write, secrets),
  },
};

/** The words that name a command: `config` takes a second one. */
function _commandName(first: string, rest: readonly string[]): { name: string; consumed: number } {
  const second = rest[0];
  if (first === "config" && second !== undefined && !second.startsWith("-")) {
    return { name: `config ${second}`, consumed: 1 };
  }
  return { name: first, consumed: 0 };
}

/** Runs the command line. Never rejects; never prints a stack trace. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets = new SecretRegistry();
  const write: _Writers = {
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
  };
  const [first, ...rest] = argv;
  let command: _Command | undefined;
  let commandName = "";
  try {
    if (first === undefined) {
      write.err(_topHelp().join("\n"));
      return EXIT_USAGE;
    }
    if (first === "--help" || first === "-h" || first === "help") {
      const words = first === "help" ? rest : [];
      const topic = words[0] === undefined ? undefined : _commandName(words[0], words.slice(1)).name;
      const target = topic === undefined || !Object.hasOwn(_COMMANDS, topic) ? undefined : _COMMANDS[topic];
      if (topic !== undefined && target === undefined)
        throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      write.out((target === undefined ? _topHelp() : _commandHelp(target)).join("\n"));
      return EXIT_OK;
    }
    if (first === "config" && (rest.length === 0 || rest[0] === "--help" || rest[0] === "-h")) {
      const help = _configHelp().join("\n");
      if (rest.length === 0) {
        write.err(help);
        return EXIT_USAGE;
      }
      write.out(help);
      return EXIT_OK;
    }
    if (first === "--version") {
      write.out(versionLine(NAME, VERSION));
      return EXIT_OK;
    }
    const named = _commandName(first, rest);
    commandName = named.name;
    command = Object.hasOwn(_COMMANDS, named.name) ? _COMMANDS[named.name] : undefined;
    if (command === undefined) {
      throw new UsageError(
        first.startsWith("-")
          ? `unknown flag ${JSON.stringify(first)}`
          : named.name === "config"
            ? `config takes a command first: ${_configCommands().join(" or ")}`
            : `unknown command ${JSON.stringify(named.name)}`,
      );
    }
    const args = parseArgs(rest.slice(named.consumed), command.flags);
    if (args.help) {
      write.out(_commandHelp(command).join("\n"));
      return EXIT_OK;
    }
    if (args.version) {
      write.out(versionLine(NAME, VERSION));
      return EXIT_OK;
    }
    return await command.run(args, io, write, secrets);
  } catch (error) {
    if (error instanceof UsageError) {
      const see = command === undefined ? `${NAME} --help` : `${NAME} ${commandName} --help`;
      write.err(`${NAME}: ${safeLine(error.message, secrets)} (see ${see})`);
      return EXIT_USAGE;
    }
    write.err(`${NAME}: internal error: ${safeLine(messageOf(error), secrets)}`);
    return EXIT_FAILED;
  }
}

function _configCommands(): string[] {
  return Object.keys(_COMMANDS)
    .filter((name) => name.startsWith("config "))
    .map((name) => name.slice("config ".length));
}

function _configHelp(): string[] {
  return [
    `Usage: ${NAME} config COMMAND [flags]`,
    "",
    "Commands:",
    ..._configCommands().map((name) => `  ${name.padEnd(15)}  ${_COMMANDS[`config ${name}`]?.summary ?? ""}`),
    "",
    `Run \`${NAME} config COMMAND --help\` for a command's flags.`,
  ];
}

function _topHelp(): string[] {
  const names = Object.keys(_COMMANDS);
  const width = Math.max(...names.map((name) => name.length));
  return [
    `${NAME} ${VERSION}`,
    "The kubelet's side of image credential provider plugins, for people debugging a pull, and the",
    "config edits a node installer needs.",
    "",
    `Usage: ${NAME} COMMAND [flags] [args]`,
    "",
    "Commands:",
    ...names.map((name) => `  ${name.padEnd(width)}  ${_COMMANDS[name]?.summary ?? ""}`),
    "",
    `Run \`${NAME} COMMAND --help\` for a command's flags. \`${NAME} --version\` prints the version.`,
  ];
}

function _commandHelp(command: _Command): string[] {
  return [`Usage: ${command.usage}`, "", ...command.about, "", "Flags:", ...flagHelp(command.flags)];
}

async function _validate(
  args: ParsedArgs,
  _io: CliIo,
  write: _Writers,
  secrets: SecretRegistry,
): Promise<number> {
  const kubelet = parseKubeletVersion(args.strings.get("kubelet-version"));
  const [path] = args.positionals;
  if (path === undefined) throw new UsageError("missing argument CONFIG");
  noMorePositionals(args, 1);
  const report = await validateConfigPath(path, kubelet);
  for (const note of report.notes) write.err(`${NAME}: ${note}`);
  if (report.valid) {
    for (const warning of report.warnings) {
      write.out(safeLine(`warning: ${formatPatternWarning(warning, warningFile(report))}`, secrets));
    }
    write.out(validSummary(report));
    return EXIT_OK;
  }
  for (const issue of report.issues) write.out(issue);
  write.err(safeLine(_wouldNotStart(kubelet, report), secrets));
  return EXIT_FAILED;
}

/** `kubelet-credential-sim: the kubelet 1.37 would not start: ERROR`, the kubelet's error verbatim. */
function _wouldNotStart(kubelet: KubeletVersion, report: ValidationReport): string {
  return `${NAME}: the kubelet ${kubelet.minor} would not start: ${report.kubeletError ?? report.issues.join("; ")}`;
}

async function _lookup(
  args: ParsedArgs,
  io: CliIo,
  write: _Writers,
  secrets: SecretRegistry,
): Promise<number> {
  const configPath = requiredFlag(args, "config");
  const binDir = requiredFlag(args, "bin-dir");
  const images = args.positionals;
  if (images.length === 0) throw new UsageError("missing argument IMAGE");
  const output = _outputFormat(args);
  const timeoutMs = _timeout(args.strings.get("timeout"));
  const serviceAccount = _serviceAccount(args);
  const tokenSecrets = new SecretRegistry();
  secrets.add(serviceAccount?.token);
  tokenSecrets.add(serviceAccount?.token);
  const showSecrets = args.booleans.get("show-secrets") ?? false;
  const pluginStderrDir = args.strings.get("plugin-stderr-dir");
  const kubelet = parseKubeletVersion(args.strings.get("kubelet-version"));

  const validation = await validateConfigPath(configPath, kubelet);
  for (const note of validation.notes) write.err(`${NAME}: ${note}`);
  if (!validation.valid || validation.config === undefined) {
    write.err(safeLine(_wouldNotStart(kubelet, validation), secrets));
    // Validation issues, each with its file and list indices; an error that stopped the reading is
    // already said in full.
    if (validation.issues.join("\n") !== validation.kubeletError) {
      for (const issue of validation.issues) write.err(safeLine(issue, secrets));
    }
    return EXIT_FAILED;
  }
  const config = validation.config;
  const missing = await checkPluginBinaries(
    binDir,
    config.providers.map((provider) => provider.name),
  );
  if (missing !== undefined) {
    write.err(`${NAME}: the kubelet would not start: ${safeLine(missing, secrets)}`);
    return EXIT_FAILED;
  }

  const simulator = createKubeletSimulator({
    config,
    binDir,
    timeoutMs,
    kubeletVersion: kubelet,
    env: io.env,
    secrets,
    ...(serviceAccount === undefined ? {} : { serviceAccount }),
    ...(pluginStderrDir === undefined ? {} : { pluginStderrDir }),
  });
  const verify = args.booleans.get("verify") ?? false;
  const http = verify ? _http(io, secrets) : undefined;
  const entries: LookupEntry[] = [];
  for (const image of images) {
    const entry: LookupEntry = await simulator.lookup(image);
    if (http !== undefined && entry.credentials.length > 0)
      Object.assign(entry, await verifyEntry(entry, http, secrets));
    entries.push(entry);
  }

  const counts = simulator.execCounts();
  const options = { secrets, tokenSecrets, showSecrets };
  if (output === "json") {
    write.out(JSON.stringify(lookupJson(entries, options), null, 2));
    for (const line of execCountLines(counts)) write.err(line);
  } else {
    for (const line of lookupText(entries, options)) write.out(line);
    write.out("");
    write.out("summary:");
    for (const line of lookupSummary(entries, options)) write.out(line);
    write.out("");
    for (const line of execCountLines(counts)) write.out(line);
  }
  const failed = entries.some(
    (entry) =>
      entry.error !== undefined ||
      entry.providers.some((provider) => provider.error !== undefined) ||
      entry.verified === false,
  );
  return failed ? EXIT_FAILED : EXIT_OK;
}

async function _doctor(
  args: ParsedArgs,
  io: CliIo,
  write: _Writers,
  secrets: SecretRegistry,
): Promise<number> {
  noMorePositionals(args, 0);
  if (process.platform === "win32") {
    // It reads /proc, systemd units and ELF headers: none of them is on a Windows node.
    throw new UsageError(
      "doctor inspects Linux nodes; on a Windows node, check a provider with lookup --config PATH --bin-dir DIR IMAGE",
    );
  }
  const output = _outputFormat(args);
  const given = args.strings.get("kubelet-flags");
  const version = args.strings.get("kubelet-version");
  const config = args.strings.get("config");
  const binDir = args.strings.get("bin-dir");
  const kubeconfig = args.strings.get("kubeconfig");
  const report = await runDoctor({
    root: resolve(args.strings.get("root") ?? "/"),
    ...(given === undefined ? {} : { kubeletFlags: splitWords(given) }),
    ...(version === undefined ? {} : { kubeletVersion: parseKubeletVersion(version) }),
    ...(config === undefined ? {} : { config }),
    ...(binDir === undefined ? {} : { binDir }),
    images: args.lists.get("image") ?? [],
    ...(args.booleans.get("verify") ? { http: _http(io, secrets) } : {}),
    ...(kubeconfig === undefined ? {} : { kubeconfig: resolve(kubeconfig) }),
    serviceAccounts: (args.lists.get("service-account") ?? []).map(_accountRef),
    // Injected in tests; otherwise doctor's own, over the kubelet's environment.
    ...(io.http === undefined ? {} : { apiHttp: io.http }),
    env: io.env,
    secrets,
    timeoutMs: _timeout(args.strings.get("timeout")),
  });
  // JSON escapes every control character itself.
  if (output === "json") write.out(secrets.redact(JSON.stringify(report, null, 2)));
  else for (const line of doctorText(report)) write.out(safeLine(line, secrets));
  return report.broken > 0 ? EXIT_FAILED : EXIT_OK;
}

async function _verify(
  args: ParsedArgs,
  io: CliIo,
  write: _Writers,
  secrets: SecretRegistry,
): Promise<number> {
  const [image] = args.positionals;
  if (image === undefined) throw new UsageError("missing argument IMAGE");
  noMorePositionals(args, 1);
  const username = requiredFlag(args, "username");
  if (!args.booleans.get("password-stdin")) {
    throw new UsageError("give the password on stdin with --password-stdin");
  }
  let password = "";
  for await (const chunk of io.stdin)
    password += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  // As docker login --password-stdin: one trailing newline is not part of the password.
  password = password.replace(/\r?\n$/, "");
  secrets.add(password);
  if (password === "") throw new UsageError("--password-stdin: stdin held no password");
  const result = await verifyCredentials({
    image,
    username,
    password,
    secrets,
    http: _http(io, secrets),
  });
  write.out(`${result.outcome}: ${safeLine(result.message, secrets)}`);
  return result.outcome === "accepted" ? EXIT_OK : EXIT_FAILED;
}

/** `--output`: text (the default) or json. @throws UsageError */
function _outputFormat(args: ParsedArgs): "text" | "json" {
  const output = args.strings.get("output") ?? "text";
  if (output !== "text" && output !== "json") {
    throw new UsageError(`flag --output takes text or json, not ${JSON.stringify(output)}`);
  }
  return output;
}

/** The client verify uses: the one the caller gave (tests), else the simulator's own. */
function _http(io: CliIo, secrets: SecretRegistry): HttpClient {
  return io.http ?? createHttpClient({ userAgent: `${NAME}/${VERSION}`, secrets, env: io.env });
}

/** `NAMESPACE/NAME`, both DNS labels as Kubernetes names them. */
function _accountRef(text: string): { namespace: string; name: string } {
  const match = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?)$/.exec(text);
  if (!match) {
    throw new UsageError(
      `flag --service-account takes NAMESPACE/NAME, such as default/builder, not ${JSON.stringify(text)}`,
    );
  }
  return { namespace: match[1] as string, name: match[3] as string };
}

function _timeout(text: string | undefined): number {
  if (text === undefined) return KUBELET_PLUGIN_TIMEOUT_MS;
  let nanos: bigint;
  try {
    nanos = parseDurationNanos(text);
  } catch {
    throw new UsageError(`flag --timeout takes a Go duration such as 10s, not ${JSON.stringify(text)}`);
  }
  const ms = Number(nanos / 1_000_000n);
  if (ms <= 0 || ms > KUBELET_PLUGIN_TIMEOUT_MS) {
    throw new UsageError(`flag --timeout must be more than 0s and at most the kubelet's 1m, not ${text}`);
  }
  return ms;
}

function _serviceAccount(args: ParsedArgs): ServiceAccount | undefined {
  const token = args.strings.get("service-account-token");
  const identity = args.strings.get("service-account");
  const pairs = args.lists.get("service-account-annotation") ?? [];
  if (token === undefined) {
    if (identity !== undefined || pairs.length > 0) {
      throw new UsageError(
        "--service-account and --service-account-annotation describe the token's service account: give --service-account-token too",
      );
    }
    return undefined;
  }
  if (token === "") throw new UsageError("flag --service-account-token is empty");
  let namespace = "default";
  let name = "default";
  if (identity !== undefined) {
    const match = /^([^/]+)\/([^/]+)$/.exec(identity);
    if (match === null) {
      throw new UsageError(`flag --service-account takes NAMESPACE/NAME, not ${JSON.stringify(identity)}`);
    }
    namespace = match[1] as string;
    name = match[2] as string;
  }
  const annotations: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`flag --service-account-annotation takes KEY=VALUE, not ${JSON.stringify(pair)}`);
    }
    annotations[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { namespace, name, token, annotations };
}
