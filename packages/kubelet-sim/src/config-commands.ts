/**
 * `config set-provider` and `config remove-provider`: one provider entry of a CredentialProviderConfig
 * file added, replaced or removed, everything else kept, the result checked with every rule of the
 * kubelet before it is written (atomically, with a backup). What the node installer uses to merge
 * its entries into the kubelet's config.
 */

import { type ConfigIssue, formatConfigIssue, validateConfig } from "@kubelet-credential-provider/config";
import { isCredentialProviderError, type SecretRegistry } from "@kubelet-credential-provider/core";
import { type FlagDefs, noMorePositionals, type ParsedArgs, requiredFlag, UsageError } from "./args.ts";
import {
  type ConfigEdit,
  type EditedConfig,
  editConfigText,
  OPERATOR_SETTINGS,
  type ProviderEntry,
} from "./config-edit.ts";
import {
  backupFile,
  ConfigFileError,
  type CurrentFile,
  readCurrentFile,
  writeAtomically,
} from "./config-file.ts";
import { unifiedDiff } from "./diff.ts";
import { KUBELET_VERSION_FLAG, type KubeletVersion, parseKubeletVersion } from "./kubelet-versions.ts";
import { messageOf, safeLine } from "./text.ts";
import { checkConfigIssues, decodeConfigText } from "./validate.ts";
import { NAME } from "./version.ts";

export interface ConfigWriters {
  out(line: string): void;
  err(line: string): void;
}

const _CONFIG_FLAG = {
  type: "string",
  placeholder: "FILE",
  description: "The CredentialProviderConfig file (JSON or YAML); a missing file is a new config.",
} as const;

const _WRITE_FLAGS = {
  "backup-dir": {
    type: "string",
    placeholder: "DIR",
    description:
      "Keep the backup (FILE.bak-YYYYMMDDThhmmssZ) in DIR (made if missing) instead of next to FILE.",
  },
  "dry-run": { type: "boolean", description: "Print the diff of what would change, and write nothing." },
  "kubelet-version": KUBELET_VERSION_FLAG,
} as const satisfies FlagDefs;

export const SET_PROVIDER_FLAGS = {
  config: _CONFIG_FLAG,
  "provider-json": {
    type: "string",
    placeholder: "JSON",
    description: "The provider entry, a JSON object with its name; replaces the entry of that name.",
  },
  force: {
    type: "boolean",
    description: "Replace a FILE the kubelet cannot read (it is backed up first) instead of refusing.",
  },
  "keep-settings": {
    type: "boolean",
    description:
      "An existing entry of that name keeps its args, env and tokenAttributes (the operator's settings); the rest is replaced.",
  },
  ..._WRITE_FLAGS,
} as const satisfies FlagDefs;

export const REMOVE_PROVIDER_FLAGS = {
  config: _CONFIG_FLAG,
  name: { type: "string", placeholder: "NAME", description: "The name of the provider entry to remove." },
  "allow-empty": {
    type: "boolean",
    description: "Remove the last provider too, leaving a config the kubelet does not start with.",
  },
  ..._WRITE_FLAGS,
} as const satisfies FlagDefs;

/** The kubelet's issue for a config without providers, which --allow-empty accepts. */
const _NO_PROVIDERS = (issue: ConfigIssue) => issue.path === "providers" && issue.type === "Required";

/** `config set-provider`. Exit status 0 when written or unchanged, 1 when refused. */
export async function runSetProvider(
  args: ParsedArgs,
  write: ConfigWriters,
  secrets: SecretRegistry,
): Promise<number> {
  const path = requiredFlag(args, "config");
  const entry = _providerEntry(requiredFlag(args, "provider-json"));
  const keep = args.booleans.get("keep-settings") ? OPERATOR_SETTINGS : [];
  noMorePositionals(args, 0);
  return _run(args, write, secrets, path, { op: "set", entry, keep });
}

/** `config remove-provider`. Exit status 0 when removed or absent, 1 when refused. */
export async function runRemoveProvider(
  args: ParsedArgs,
  write: ConfigWriters,
  secrets: SecretRegistry,
): Promise<number> {
  const path = requiredFlag(args, "config");
  const name = requiredFlag(args, "name");
  noMorePositionals(args, 0);
  return _run(args, write, secrets, path, { op: "remove", name });
}

async function _run(
  args: ParsedArgs,
  write: ConfigWriters,
  secrets: SecretRegistry,
  path: string,
  edit: ConfigEdit,
): Promise<number> {
  const dryRun = args.booleans.get("dry-run") ?? false;
  const force = args.booleans.get("force") ?? false;
  const allowEmpty = args.booleans.get("allow-empty") ?? false;
  const backupDir = args.strings.get("backup-dir");
  if (backupDir === "") throw new UsageError("flag --backup-dir is empty");
  const kubelet = parseKubeletVersion(args.strings.get("kubelet-version"));
  const name = edit.op === "set" ? edit.entry.name : edit.name;
  const say = (line: string) => write.out(safeLine(line, secrets));
  try {
    const current = await readCurrentFile(path);
    if (current.text === undefined && edit.op === "remove") {
      say(`unchanged: ${path} does not exist`);
      return 0;
    }
    const before = await _readable(current, path, force, kubelet);
    if (before === undefined && edit.op === "remove") {
      // An empty file: no entry to remove, and nothing to write.
      say(`unchanged: ${path} has no provider ${name}`);
      return 0;
    }
    const edited = await editConfigText(before, path, edit).catch((error: unknown) => {
      throw new ConfigFileError(`cannot edit ${path}: ${messageOf(error)}`);
    });
    if (edited.text === current.text) {
      say(
        edit.op === "set"
          ? `unchanged: ${name} in ${path} is already as given`
          : `unchanged: ${path} has no provider ${name}`,
      );
      return 0;
    }
    const empty = await _check(edited, path, edit, allowEmpty, kubelet);

    const replacingUnreadable = current.text !== undefined && before === undefined;
    if (dryRun) {
      const diff = unifiedDiff(current.text, edited.text, { before: path, after: path });
      for (const line of diff.replace(/\n$/, "").split("\n")) say(line);
      say(_summary(edited, name, path, { dryRun: true, replacingUnreadable }));
      return 0;
    }
    const backup =
      current.text === undefined ? undefined : await backupFile(current.target, path, backupDir, new Date());
    await writeAtomically(current.target, edited.text, current);
    say(
      _summary(edited, name, path, {
        dryRun: false,
        replacingUnreadable,
        ...(backup === undefined ? {} : { backup }),
      }),
    );
    if (empty) write.err(safeLine(`${NAME}: warning: ${_emptyWarning(path)}`, secrets));
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    write.err(`${NAME}: ${safeLine(error.message, secrets)}`);
    return 1;
  }
}

/**
 * The text to edit: the file's, when the kubelet can read it; undefined for a new config, an empty
 * file (nothing in it to keep), or, with --force, a file the kubelet cannot read.
 */
async function _readable(
  current: CurrentFile,
  path: string,
  force: boolean,
  kubelet: KubeletVersion,
): Promise<string | undefined> {
  if (current.text === undefined || current.text.trim() === "") return undefined;
  let problem: string | undefined;
  if (!current.utf8) problem = `${path} is not UTF-8 text`;
  else {
    try {
      await decodeConfigText(current.text, path, kubelet);
    } catch (error) {
      problem = isCredentialProviderError(error) ? error.message : messageOf(error);
    }
  }
  if (problem === undefined) return current.text;
  if (force) return undefined;
  throw new ConfigFileError(
    `${problem}; ${path} is not a config the kubelet can read and is left unchanged (--force replaces it, keeping a backup)`,
  );
}

/**
 * Refuses a result the kubelet would not start with. A config left without providers passes only
 * with --allow-empty (then: true, and the caller warns).
 */
async function _check(
  edited: EditedConfig,
  path: string,
  edit: ConfigEdit,
  allowEmpty: boolean,
  kubelet: KubeletVersion,
): Promise<boolean> {
  let issues: ConfigIssue[];
  try {
    const checked = checkConfigIssues(
      validateConfig(await decodeConfigText(edited.text, path, kubelet)),
      kubelet,
    );
    if (checked.error !== undefined) {
      throw new ConfigFileError(
        `refusing to write ${path}: the kubelet would reject the result: ${checked.error}`,
      );
    }
    issues = checked.issues;
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    const message = isCredentialProviderError(error) ? error.message : messageOf(error);
    throw new ConfigFileError(`refusing to write ${path}: the kubelet could not read the result: ${message}`);
  }
  const empty = edited.providers === 0;
  if (empty && edit.op === "remove" && !allowEmpty) {
    throw new ConfigFileError(
      `refusing to remove ${edit.name}, the last provider of ${path}: the kubelet does not start with no providers ` +
        `("providers: Required value: at least 1 item in plugins is required"); remove the kubelet's ` +
        "--image-credential-provider-config and --image-credential-provider-bin-dir flags and this file, " +
        "or pass --allow-empty to write the empty list anyway",
    );
  }
  const blocking = issues.filter((issue) => !(allowEmpty && edit.op === "remove" && _NO_PROVIDERS(issue)));
  if (blocking.length > 0) {
    throw new ConfigFileError(
      `refusing to write ${path}: the kubelet would reject the result: ${blocking.map((issue) => formatConfigIssue(issue)).join("; ")}`,
    );
  }
  return empty;
}

function _emptyWarning(path: string): string {
  return (
    `${path} has no providers left: the kubelet does not start with it; remove its ` +
    "--image-credential-provider-config and --image-credential-provider-bin-dir flags (or add a provider) before it restarts"
  );
}

const _FORMAT_NAMES = { json: "JSON", yaml: "YAML" } as const;

/** One line saying what is done (`added ecr-credential-provider to FILE`) or would be (`would add`). */
function _summary(
  edited: EditedConfig,
  name: string,
  path: string,
  options: { dryRun: boolean; replacingUnreadable: boolean; backup?: string },
): string {
  const verb = (done: string, would: string) => (options.dryRun ? `would ${would}` : done);
  const action = {
    added: `${verb("added", "add")} ${name} to ${path}`,
    replaced: `${verb("replaced", "replace")} ${name} in ${path}`,
    removed: `${verb("removed", "remove")} ${name} from ${path}`,
    converted: `${verb("converted", "convert")} ${path} to ${_FORMAT_NAMES[edited.format]}, ${name} unchanged`,
    // Never printed: an unchanged file is reported before.
    unchanged: `unchanged: ${name} in ${path}`,
    absent: `unchanged: ${path}`,
  }[edited.change];
  const notes: string[] = [];
  if (edited.convertedFrom !== undefined && edited.change !== "converted") {
    notes.push(`written as ${_FORMAT_NAMES[edited.format]}, was ${_FORMAT_NAMES[edited.convertedFrom]}`);
  }
  if (options.replacingUnreadable) notes.push("replacing a file the kubelet cannot read");
  if (options.backup !== undefined) notes.push(`backup: ${options.backup}`);
  return notes.length === 0 ? action : `${action} (${notes.join("; ")})`;
}

/** The --provider-json value: a JSON object with a non-empty string name. */
function _providerEntry(text: string): ProviderEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`flag --provider-json is not JSON: ${messageOf(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError("flag --provider-json takes a JSON object (one provider entry)");
  }
  const name = (value as Record<string, unknown>).name;
  if (typeof name !== "string" || name === "") {
    throw new UsageError('flag --provider-json: the entry needs a "name" (a non-empty string)');
  }
  return value as ProviderEntry;
}
