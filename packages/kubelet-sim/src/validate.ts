/**
 * `validate`: a CredentialProviderConfig file or directory, read and checked with every rule of the
 * kubelet of one minor (kubelet-versions.ts), each issue with its file and field path.
 *
 * Core's loadConfig, parseConfig and validateConfig model the newest kubelet. What an older minor
 * does differently is done here, around them: 1.33 reads one file with its own texts (no
 * directories), refuses `tokenAttributes.cacheType` as an unknown field (core's decoding knows the
 * field, so it is looked for before core decodes) and so does not require it; 1.34+ stops at a
 * repeated provider name before validating (core reports it as a validation issue, which is turned
 * into the kubelet's error).
 */
import { readFile } from "node:fs/promises";
import type { ConfigIssue, CredentialProviderConfig } from "@kubelet-credential-provider/config";
import {
  formatConfigIssue,
  formatConfigIssues,
  loadConfig,
  parseConfig,
  validateConfig,
} from "@kubelet-credential-provider/config";
import {
  CredentialProviderError,
  errorCodeOf,
  isCredentialProviderError,
} from "@kubelet-credential-provider/core";
import { DEFAULT_KUBELET_VERSION, type KubeletVersion, serviceAccountGateNote } from "./kubelet-versions.ts";
import { type PatternWarning, patternWarnings } from "./patterns.ts";
import { messageOf } from "./text.ts";

/** What {@link validateConfigPath} found. */
export interface ValidationReport {
  valid: boolean;
  /** The config, when it decoded (it may still have issues). */
  config?: CredentialProviderConfig;
  /** The files read, in order. */
  files: string[];
  /** The issues, one line each: `FILE: PATH: TYPE: VALUE: DETAIL`, or why nothing could be read. */
  issues: string[];
  /**
   * The error the kubelet of this minor stops with, word for word (validation issues as its
   * aggregate: `failed to validate credential provider config: providers.name: ...`); set when
   * not valid.
   */
  kubeletError?: string;
  /** What the minor needs for this config beyond its defaults (the 1.33 feature gate). */
  notes: string[];
  /**
   * Patterns the kubelet accepts that will not match as meant, and overlapping providers
   * (patterns.ts), for a valid config (an invalid one has its issues to fix first). They do not
   * make the config invalid.
   */
  warnings: PatternWarning[];
}

const _CACHE_TYPE_PATH = /^providers\[\d+\]\.tokenAttributes\.cacheType$/;
const _NAME_PATH = /^providers\[\d+\]\.name$/;

/**
 * Reads and validates a config file or directory as the kubelet of `kubelet`'s minor does at
 * start-up. Never rejects.
 */
export async function validateConfigPath(
  path: string,
  kubelet: KubeletVersion = DEFAULT_KUBELET_VERSION,
): Promise<ValidationReport> {
  let config: CredentialProviderConfig;
  let files: string[];
  let found: ConfigIssue[];
  try {
    if (kubelet.configDirectory) {
      ({ config, files, issues: found } = await loadConfig(path));
    } else {
      config = await decodeConfigText(await _readOneFile(path), path, kubelet);
      files = [path];
      found = validateConfig(config).map((issue) => ({ ...issue, file: path }));
    }
  } catch (error) {
    const message = isCredentialProviderError(error) ? error.message : messageOf(error);
    return { valid: false, files: [], issues: [message], kubeletError: message, notes: [], warnings: [] };
  }
  const warnings = patternWarnings(config.providers);
  const note = config.providers.some((provider) => provider.tokenAttributes !== undefined)
    ? serviceAccountGateNote(kubelet)
    : undefined;
  const notes = note === undefined ? [] : [note];
  const checked = checkConfigIssues(found, kubelet);
  if (checked.error !== undefined) {
    return {
      valid: false,
      config,
      files,
      issues: [checked.error],
      kubeletError: checked.error,
      notes,
      warnings,
    };
  }
  const issues = checked.issues.map((issue) =>
    issue.file === undefined ? formatConfigIssue(issue) : `${issue.file}: ${formatConfigIssue(issue)}`,
  );
  if (issues.length === 0) return { valid: true, config, files, issues, notes, warnings };
  return {
    valid: false,
    config,
    files,
    issues,
    kubeletError: `failed to validate credential provider config: ${formatConfigIssues(checked.issues, { kubelet: true })}`,
    notes,
    warnings: [],
  };
}

/**
 * Core's validation issues as the kubelet of `kubelet`'s minor has them: without cacheType (1.33,
 * where the field does not exist), or, for a repeated provider name in 1.34+, the error the kubelet
 * stops with before validating (`duplicate provider name "x" found in configuration file(s)`).
 */
export function checkConfigIssues(
  issues: readonly ConfigIssue[],
  kubelet: KubeletVersion,
): { issues: ConfigIssue[]; error?: string } {
  if (kubelet.duplicateProviderNames === "merge") {
    const duplicate = issues.find((issue) => issue.type === "Duplicate" && _NAME_PATH.test(issue.path));
    if (duplicate !== undefined) {
      return {
        issues: [],
        error: `duplicate provider name ${JSON.stringify(String(duplicate.value))} found in configuration file(s)`,
      };
    }
  }
  return {
    issues: kubelet.tokenCacheType
      ? [...issues]
      : issues.filter((issue) => !_CACHE_TYPE_PATH.test(issue.path)),
  };
}

/**
 * Decodes one config file's text as the kubelet of `kubelet`'s minor does (core's parseConfig, plus
 * 1.33's unknown `cacheType` and its unquoted file name).
 *
 * @throws CredentialProviderError `CONFIG_INVALID`: `error decoding config FILE: ...`.
 */
export async function decodeConfigText(
  text: string,
  file: string,
  kubelet: KubeletVersion,
): Promise<CredentialProviderConfig> {
  const unknown = kubelet.tokenCacheType ? [] : await _cacheTypeFields(text);
  let message: string;
  try {
    const config = await parseConfig(text);
    if (unknown.length === 0) return config;
    message = `strict decoding error: ${unknown.join(", ")}`;
  } catch (error) {
    if (!isCredentialProviderError(error)) throw error;
    message = error.message.replace(/^error decoding config: /, "");
    if (unknown.length > 0) {
      // Go's decoder skips an unknown field, so its value cannot be a type error; its strict
      // errors are reported together.
      if (message.startsWith("strict decoding error: ")) message = `${message}, ${unknown.join(", ")}`;
      else if (/\.tokenAttributes\.cacheType of type /.test(message)) {
        message = `strict decoding error: ${unknown.join(", ")}`;
      }
    }
  }
  const where = kubelet.quoteFileInDecodeError ? JSON.stringify(file) : file;
  throw new CredentialProviderError("CONFIG_INVALID", `error decoding config ${where}: ${message}`);
}

/** The file a config's warnings are in: its one file; a directory's merged providers have none. */
export function warningFile(report: ValidationReport): string | undefined {
  return report.files.length === 1 ? report.files[0] : undefined;
}

/** `valid: 2 providers from 1 file`. */
export function validSummary(report: ValidationReport): string {
  const providers = report.config?.providers.length ?? 0;
  const files = report.files.length;
  return `valid: ${providers} ${providers === 1 ? "provider" : "providers"} from ${files} ${files === 1 ? "file" : "files"}`;
}

/** The kubelet 1.33 way: one file, read with os.ReadFile (a directory fails at the read). */
async function _readOneFile(path: string): Promise<string> {
  if (path === "") {
    throw new CredentialProviderError("CONFIG_INVALID", "credential provider config path is empty");
  }
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `unable to read external registry credential provider configuration from ${JSON.stringify(path)}: ${_goFileError(error, path)}`,
    );
  }
}

/** Go's *PathError text for os.ReadFile: `open PATH: ...`, or `read PATH: is a directory`. */
function _goFileError(error: unknown, path: string): string {
  const code = errorCodeOf(error) ?? "";
  const texts: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOTDIR: "not a directory",
    EISDIR: "is a directory",
    ELOOP: "too many levels of symbolic links",
    ENAMETOOLONG: "file name too long",
  };
  return `${code === "EISDIR" ? "read" : "open"} ${path}: ${texts[code] ?? messageOf(error)}`;
}

/**
 * `unknown field "providers[N].tokenAttributes.cacheType"` for every provider of a v1 config whose
 * tokenAttributes has the key (whatever its value, null included: Go's strict decoder names the
 * key). Text that does not parse gives none: core reports it.
 */
async function _cacheTypeFields(text: string): Promise<string[]> {
  let data: unknown;
  try {
    if (/^[ \t\r\n]*\{/.test(text)) data = JSON.parse(text);
    else {
      const yaml = await import("yaml");
      const document = yaml.parseDocument(text, { version: "1.1", uniqueKeys: false, logLevel: "silent" });
      if (document.errors.length > 0) return [];
      data = document.toJS();
    }
  } catch {
    return [];
  }
  if (!_isObject(data) || data.kind !== "CredentialProviderConfig") return [];
  if (data.apiVersion !== "kubelet.config.k8s.io/v1" || !Array.isArray(data.providers)) return [];
  return data.providers.flatMap((provider: unknown, index) =>
    _isObject(provider) &&
    _isObject(provider.tokenAttributes) &&
    Object.hasOwn(provider.tokenAttributes, "cacheType")
      ? [`unknown field ${JSON.stringify(`providers[${index}].tokenAttributes.cacheType`)}`]
      : [],
  );
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
