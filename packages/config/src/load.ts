/**
 * Reading the kubelet's `--image-credential-provider-config`, a file or a directory of files, and
 * merging and validating it as the kubelet does.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { byteSorted as _byteSorted } from "@kubelet-credential-provider/core/go";
import { _messageOf } from "./_error-text.ts";
import { parseConfig } from "./decode.ts";
import type { ConfigIssue } from "./issues.ts";
import type { ConfigApiVersion, CredentialProvider, CredentialProviderConfig } from "./schema.ts";
import { _KIND, CONFIG_API_VERSION_V1 } from "./schema.ts";
import { validateConfig } from "./validate.ts";

/** What {@link loadConfig} read. */
export interface LoadedConfig {
  /** Every file's providers, in file order. */
  config: CredentialProviderConfig;
  /** The files read, in the order read. */
  files: string[];
  /** Validation issues of the merged config, each naming its file; empty when valid. */
  issues: ConfigIssue[];
}

/**
 * Reads the kubelet's `--image-credential-provider-config`: a file, or (kubelet 1.34+) a directory
 * whose `*.json`, `*.yaml` and `*.yml` entries that are not directories are read in byte order of
 * their names; other entries are ignored. Each file is a complete `CredentialProviderConfig`
 * (see {@link parseConfig}); their providers are merged in file order and validated together, so
 * a provider name repeated in another file is a Duplicate issue naming that file. (The kubelet
 * itself stops at a repeated name with `duplicate provider name "x" found in configuration file(s)`.)
 * Issue paths are relative to the issue's file; an issue about the whole config names the path.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the path cannot be read, a directory has no
 *   config file (`no configuration files found in directory "..."`), or a file does not decode.
 */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  if (path === "")
    throw new CredentialProviderError("CONFIG_INVALID", "credential provider config path is empty");
  const info = await _io(() => stat(path), `unable to access path ${JSON.stringify(path)}`);
  const files = info.isDirectory() ? await _configFilesIn(path) : [path];

  const providers: CredentialProvider[] = [];
  const origins: { file: string; index: number }[] = [];
  let apiVersion: ConfigApiVersion = CONFIG_API_VERSION_V1;
  for (const file of files) {
    const text = await _io(() => readFile(file, "utf8"), `unable to read file ${JSON.stringify(file)}`);
    const config = await parseConfig(text, { file });
    config.providers.forEach((provider, index) => {
      providers.push(provider);
      origins.push({ file, index });
    });
    if (files.length === 1) apiVersion = config.apiVersion;
  }

  const config: CredentialProviderConfig = { apiVersion, kind: _KIND, providers };
  // An issue about the whole config (no providers at all) belongs to the file, or the directory.
  const wholeConfig = files.length === 1 ? (files[0] ?? path) : path;
  const issues = validateConfig(config).map((issue) => _locate(issue, origins, wholeConfig));
  return { config, files, issues };
}

async function _configFilesIn(directory: string): Promise<string[]> {
  const entries = await _io(
    () => readdir(directory, { withFileTypes: true }),
    `unable to read directory ${JSON.stringify(directory)}`,
  );
  const names = entries
    .filter((entry) => !entry.isDirectory() && [".json", ".yaml", ".yml"].includes(_goExt(entry.name)))
    .map((entry) => entry.name);
  if (names.length === 0) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `no configuration files found in directory ${JSON.stringify(directory)}`,
    );
  }
  return _byteSorted(names).map((name) => join(directory, name));
}

/** Go's filepath.Ext: from the last dot, so `.json` alone counts (node's extname says ""). */
function _goExt(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot === -1 ? "" : name.slice(dot);
}

/** Moves a merged-config issue to its file, with the provider index within that file. */
function _locate(
  issue: ConfigIssue,
  origins: readonly { file: string; index: number }[],
  wholeConfig: string,
): ConfigIssue {
  const match = /^providers\[(\d+)\]/.exec(issue.path);
  const origin = match === null ? undefined : origins[Number(match[1])];
  if (match === null || origin === undefined) return { ...issue, file: wholeConfig };
  return {
    ...issue,
    path: `providers[${origin.index}]${issue.path.slice(match[0].length)}`,
    file: origin.file,
  };
}

async function _io<T>(action: () => Promise<T>, context: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new CredentialProviderError("CONFIG_INVALID", `${context}: ${_messageOf(error)}`, { cause: error });
  }
}
