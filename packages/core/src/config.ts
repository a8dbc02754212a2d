/**
 * The kubelet's `CredentialProviderConfig` (kubelet.config.k8s.io v1, v1beta1, v1alpha1): schema,
 * loading and validation, kept exact to the kubelet 1.34 (`readCredentialProviderConfig`, `decode`
 * and `validateCredentialProviderConfig` in k8s.io/kubernetes pkg/credentialprovider/plugin).
 *
 * - {@link parseConfig} decodes one document as strictly as the kubelet's codec: JSON when the text
 *   starts with `{` (after whitespace), otherwise YAML 1.1 as go-yaml reads it; unknown fields,
 *   duplicate keys and wrong types are errors.
 * - {@link validateConfig} applies every validation rule and collects all issues, worded as the
 *   kubelet words them.
 * - {@link loadConfig} reads a file or a directory of files and merges them as the kubelet does.
 *
 * Required-ness (name, matchImages, defaultCacheDuration, tokenAttributes fields) is checked by
 * validation rather than decoding, so a missing field reads like the kubelet's validation error.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Document, LineCounter } from "yaml";
import * as z from "zod/mini";
import { formatDurationNanos, parseDurationNanos } from "./duration.ts";
import { CredentialProviderError } from "./errors.ts";
import { parseSchemelessUrl } from "./match.ts";
import { API_VERSION_V1, apiVersions } from "./protocol.ts";

/** `kubelet.config.k8s.io/v1`, the only config version that has `tokenAttributes`. */
export const CONFIG_API_VERSION_V1 = "kubelet.config.k8s.io/v1";
/** `kubelet.config.k8s.io/v1beta1`. */
export const CONFIG_API_VERSION_V1BETA1 = "kubelet.config.k8s.io/v1beta1";
/** `kubelet.config.k8s.io/v1alpha1`. */
export const CONFIG_API_VERSION_V1ALPHA1 = "kubelet.config.k8s.io/v1alpha1";

/** Every apiVersion a `CredentialProviderConfig` document may have, newest first. */
export const configApiVersions = [
  CONFIG_API_VERSION_V1,
  CONFIG_API_VERSION_V1BETA1,
  CONFIG_API_VERSION_V1ALPHA1,
] as const;
/** The apiVersion of a `CredentialProviderConfig` document. */
export type ConfigApiVersion = (typeof configApiVersions)[number];

/** The values `tokenAttributes.cacheType` accepts, in the kubelet's (sorted) order. */
export const serviceAccountTokenCacheTypes = ["ServiceAccount", "Token"] as const;
/** How the kubelet keys credentials obtained with a service account token. */
export type ServiceAccountTokenCacheType = (typeof serviceAccountTokenCacheTypes)[number];

/** The kubelet's configuration of its image credential provider plugins. */
export interface CredentialProviderConfig {
  /** The document's version. A merged directory (see {@link loadConfig}) reports v1. */
  apiVersion: ConfigApiVersion;
  kind: "CredentialProviderConfig";
  /** The plugins, in order: for an image several match, earlier providers' keys are tried first. */
  providers: CredentialProvider[];
}

/** One exec plugin. Decoding fills absent strings and lists with Go's zero values ("" and []). */
export interface CredentialProvider {
  /** The executable's name in the kubelet's `--image-credential-provider-bin-dir`; unique. */
  name: string;
  /** Image patterns (`*.dkr.ecr.*.amazonaws.com`, `registry.io:8080/path`) that invoke the plugin. */
  matchImages: string[];
  /** Go duration (`12h`, `10m0s`) the kubelet caches credentials for when a response names none. */
  defaultCacheDuration?: string;
  /** The request/response version, one of the `credentialprovider.kubelet.k8s.io` versions. */
  apiVersion: string;
  /** Arguments the plugin runs with (no shell). */
  args?: string[];
  /** Environment added to the kubelet's own when the plugin runs. */
  env?: ExecEnvVar[];
  /** Service account token mode; kubelet.config.k8s.io/v1 only. */
  tokenAttributes?: ServiceAccountTokenAttributes;
}

/** An environment variable for the plugin. */
export interface ExecEnvVar {
  name: string;
  value: string;
}

/** How the kubelet hands the pod's service account token to the plugin (config v1 only). */
export interface ServiceAccountTokenAttributes {
  /** Audience of the projected service account token. Required (validation). */
  serviceAccountTokenAudience: string;
  /**
   * A {@link ServiceAccountTokenCacheType}. Typed `string` because decoding accepts any string, as
   * the kubelet's does; validation reports other values as NotSupported.
   */
  cacheType: string;
  /** Whether the plugin runs only for pods with a service account. Required (validation). */
  requireServiceAccount?: boolean;
  /** Annotation keys that must be on the service account (requires requireServiceAccount true). */
  requiredServiceAccountAnnotationKeys?: string[];
  /** Annotation keys passed to the plugin when present. */
  optionalServiceAccountAnnotationKeys?: string[];
}

/** One validation finding, shaped like a Kubernetes `field.Error`. */
export interface ConfigIssue {
  /** Where, with list indices: `providers[0].matchImages[1]`. */
  path: string;
  type: "Required" | "Invalid" | "NotSupported" | "Duplicate" | "Forbidden";
  /** The offending value (Invalid, NotSupported, Duplicate). */
  value?: unknown;
  /** The detail after the value; empty where the kubelet gives none. */
  message: string;
  /** The file the issue is in, when it came from {@link loadConfig}. */
  file?: string;
}

/** What {@link loadConfig} read. */
export interface LoadedConfig {
  /** Every file's providers, in file order. */
  config: CredentialProviderConfig;
  /** The files read, in the order read. */
  files: string[];
  /** Validation issues of the merged config, each naming its file; empty when valid. */
  issues: ConfigIssue[];
}

/** Options for formatting issues. */
export interface FormatConfigIssueOptions {
  /** Print exactly what the kubelet prints: paths without list indices, and no file names. */
  kubelet?: boolean;
}

const _KIND = "CredentialProviderConfig";

// Go durations are checked while decoding, as metav1.Duration's UnmarshalJSON does, with Go's text.
const _goDuration = z.string().check(
  z.refine((text: string) => _durationError(text) === undefined, {
    error: (issue) => _durationError(String(issue.input)) ?? "invalid duration",
  }),
);

// Go decodes a null list element as the element's zero value; null fields are dropped beforehand.
function _nullAs<S extends z.ZodMiniType>(zero: unknown, schema: S) {
  return z.pipe(
    z.transform((value: unknown) => value ?? zero),
    schema,
  );
}

const _strings = z.array(_nullAs("", z.string()));

/** `ExecEnvVar`, strict. */
export const execEnvVarSchema = z.strictObject({
  name: z._default(z.string(), ""),
  value: z._default(z.string(), ""),
});

/** `ServiceAccountTokenAttributes`, strict; required-ness is left to {@link validateConfig}. */
export const serviceAccountTokenAttributesSchema = z.strictObject({
  serviceAccountTokenAudience: z._default(z.string(), ""),
  cacheType: z._default(z.string(), ""),
  requireServiceAccount: z.optional(z.boolean()),
  requiredServiceAccountAnnotationKeys: z.optional(_strings),
  optionalServiceAccountAnnotationKeys: z.optional(_strings),
});

const _legacyProviderShape = {
  name: z._default(z.string(), ""),
  matchImages: z._default(_strings, () => []),
  defaultCacheDuration: z.optional(_goDuration),
  apiVersion: z._default(z.string(), ""),
  args: z.optional(_strings),
  env: z.optional(z.array(_nullAs({}, execEnvVarSchema))),
};

/** A v1 `CredentialProvider`, strict; required-ness is left to {@link validateConfig}. */
export const credentialProviderSchema = z.strictObject({
  ..._legacyProviderShape,
  tokenAttributes: z.optional(serviceAccountTokenAttributesSchema),
});

/** A v1beta1 or v1alpha1 `CredentialProvider`: no `tokenAttributes`. */
export const legacyCredentialProviderSchema = z.strictObject(_legacyProviderShape);

function _configSchema<V extends ConfigApiVersion, P extends z.ZodMiniType>(apiVersion: V, provider: P) {
  return z.strictObject({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(_KIND),
    providers: z._default(z.array(_nullAs({}, provider)), () => []),
  });
}

/**
 * The strict schema of a whole document, per config apiVersion. Fields whose value is `null` must
 * be removed first (Go decodes them as absent), as {@link parseConfig} does; null list elements
 * become the element's zero value here.
 */
export const credentialProviderConfigSchemas = {
  [CONFIG_API_VERSION_V1]: _configSchema(CONFIG_API_VERSION_V1, credentialProviderSchema),
  [CONFIG_API_VERSION_V1BETA1]: _configSchema(CONFIG_API_VERSION_V1BETA1, legacyCredentialProviderSchema),
  [CONFIG_API_VERSION_V1ALPHA1]: _configSchema(CONFIG_API_VERSION_V1ALPHA1, legacyCredentialProviderSchema),
} as const;

// ---------------------------------------------------------------------------------------------
// Formatting

const _typeLabels: Record<ConfigIssue["type"], string> = {
  Required: "Required value",
  Invalid: "Invalid value",
  NotSupported: "Unsupported value",
  Duplicate: "Duplicate value",
  Forbidden: "Forbidden",
};

/**
 * Formats an issue as Kubernetes' `field.Error.Error()` does, e.g.
 * `providers[0].name: Invalid value: "a/b": provider name cannot contain '/'` or
 * `providers[1].name: Duplicate value: "p"`. The file is not included. With `kubelet: true` the
 * path loses its list indices (`providers.name`), which is the kubelet's own text.
 */
export function formatConfigIssue(issue: ConfigIssue, options: FormatConfigIssueOptions = {}): string {
  const path = options.kubelet ? issue.path.replace(/\[\d+\]/g, "") : issue.path;
  let body = _typeLabels[issue.type];
  // Go's ErrorBody prints no value for Required and Forbidden.
  if (issue.type !== "Required" && issue.type !== "Forbidden") {
    body += `: ${_goValue(issue.path, issue.value)}`;
  }
  if (issue.message !== "") body += `: ${issue.message}`;
  return `${path}: ${body}`;
}

/**
 * Formats several issues as the kubelet's error aggregate: one issue alone, more as
 * `[first, second]`, identical texts once. Without `kubelet: true`, an issue with a file is
 * prefixed with `file: `.
 */
export function formatConfigIssues(
  issues: readonly ConfigIssue[],
  options: FormatConfigIssueOptions = {},
): string {
  const texts = [
    ...new Set(
      issues.map((issue) => {
        const text = formatConfigIssue(issue, options);
        return issue.file !== undefined && !options.kubelet ? `${issue.file}: ${text}` : text;
      }),
    ),
  ];
  if (texts.length <= 1) return texts[0] ?? "";
  return `[${texts.join(", ")}]`;
}

/**
 * Throws when there are issues, as the kubelet refuses to start its plugins.
 *
 * @throws CredentialProviderError `CONFIG_INVALID`:
 *   `failed to validate credential provider config: <issues>` (see {@link formatConfigIssues}).
 */
export function assertNoConfigIssues(issues: readonly ConfigIssue[]): void {
  if (issues.length === 0) return;
  throw new CredentialProviderError(
    "CONFIG_INVALID",
    `failed to validate credential provider config: ${formatConfigIssues(issues)}`,
  );
}

// Go's %v for the value kinds that occur here.
function _goValue(path: string, value: unknown): string {
  if (typeof value === "string") {
    // *metav1.Duration is a fmt.Stringer, so Go prints Duration.String() unquoted: -1m0s.
    if (path.endsWith(".defaultCacheDuration") && _durationError(value) === undefined) {
      return formatDurationNanos(parseDurationNanos(value));
    }
    return _goQuote(value);
  }
  if (Array.isArray(value)) return `[]string{${value.map((v) => _goQuote(String(v))).join(", ")}}`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === undefined || value === null) return "null";
  return JSON.stringify(value);
}

const _goEscapes: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const _GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote (%q): printable characters as they are, the rest escaped. */
function _goQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const escaped = _goEscapes[char];
    if (escaped !== undefined) out += escaped;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (_GO_PRINTABLE.test(char)) out += char;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * Validates a config with every rule of the kubelet's `validateCredentialProviderConfig`, in the
 * kubelet's order, collecting all issues. One addition: an empty provider name is reported as
 * Required here, where the kubelet only fails later when it cannot find the plugin binary.
 * The KubeletServiceAccountTokenForCredentialProviders feature gate is taken as enabled.
 */
export function validateConfig(config: CredentialProviderConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.providers.length === 0) {
    issues.push({ path: "providers", type: "Required", message: "at least 1 item in plugins is required" });
  }
  const seenNames = new Set<string>();
  config.providers.forEach((provider, index) => {
    _validateProvider(provider, `providers[${index}]`, seenNames, issues);
  });
  return issues;
}

const _supportedApiVersions: readonly string[] = _byteSorted(apiVersions);

function _validateProvider(
  provider: CredentialProvider,
  path: string,
  seenNames: Set<string>,
  issues: ConfigIssue[],
): void {
  const { name } = provider;
  const namePath = `${path}.name`;
  const invalidName = (message: string) =>
    issues.push({ path: namePath, type: "Invalid", value: name, message });
  if (name === "") issues.push({ path: namePath, type: "Required", message: "name is required" });
  if (name.includes("/")) invalidName("provider name cannot contain '/'");
  if (name.includes(" ")) invalidName("provider name cannot contain spaces");
  if (name === ".") invalidName("provider name cannot be '.'");
  if (name === "..") invalidName("provider name cannot be '..'");
  if (seenNames.has(name)) issues.push({ path: namePath, type: "Duplicate", value: name, message: "" });
  seenNames.add(name);

  const apiVersionPath = `${path}.apiVersion`;
  if (provider.apiVersion === "") {
    issues.push({ path: apiVersionPath, type: "Required", message: "" });
  } else if (!_supportedApiVersions.includes(provider.apiVersion)) {
    issues.push({
      path: apiVersionPath,
      type: "NotSupported",
      value: provider.apiVersion,
      message: _supportedValues(_supportedApiVersions),
    });
  }

  if (provider.matchImages.length === 0) {
    issues.push({
      path: `${path}.matchImages`,
      type: "Required",
      message: "at least 1 item in matchImages is required",
    });
  }
  provider.matchImages.forEach((matchImage, index) => {
    try {
      parseSchemelessUrl(matchImage);
    } catch (error) {
      issues.push({
        path: `${path}.matchImages[${index}]`,
        type: "Invalid",
        value: matchImage,
        message: `match image is invalid: ${_messageOf(error)}`,
      });
    }
  });

  const durationPath = `${path}.defaultCacheDuration`;
  const duration = provider.defaultCacheDuration;
  if (duration === undefined) {
    issues.push({ path: durationPath, type: "Required", message: "" });
  } else {
    // Decoding already rejects bad text; this covers configs built in code.
    const error = _durationError(duration);
    if (error !== undefined) {
      issues.push({ path: durationPath, type: "Invalid", value: duration, message: error });
    } else if (parseDurationNanos(duration) < 0n) {
      issues.push({
        path: durationPath,
        type: "Invalid",
        value: duration,
        message: "defaultCacheDuration must be greater than or equal to 0",
      });
    }
  }

  if (provider.tokenAttributes !== undefined) {
    _validateTokenAttributes(
      provider.tokenAttributes,
      provider.apiVersion,
      `${path}.tokenAttributes`,
      issues,
    );
  }
}

function _validateTokenAttributes(
  attributes: ServiceAccountTokenAttributes,
  providerApiVersion: string,
  path: string,
  issues: ConfigIssue[],
): void {
  if (attributes.serviceAccountTokenAudience === "") {
    issues.push({ path: `${path}.serviceAccountTokenAudience`, type: "Required", message: "" });
  }
  if (attributes.requireServiceAccount === undefined) {
    issues.push({ path: `${path}.requireServiceAccount`, type: "Required", message: "" });
  }
  if (providerApiVersion !== API_VERSION_V1) {
    issues.push({
      path,
      type: "Forbidden",
      message: `tokenAttributes is only supported for ${API_VERSION_V1} API version`,
    });
  }

  const required = attributes.requiredServiceAccountAnnotationKeys ?? [];
  const optional = attributes.optionalServiceAccountAnnotationKeys ?? [];
  const requiredPath = `${path}.requiredServiceAccountAnnotationKeys`;
  if (attributes.requireServiceAccount === false && required.length > 0) {
    issues.push({
      path: requiredPath,
      type: "Forbidden",
      message: "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
    });
  }
  _validateAnnotationKeys(required, requiredPath, issues);
  _validateAnnotationKeys(optional, `${path}.optionalServiceAccountAnnotationKeys`, issues);

  // Compared as written (case-sensitive), reported once on tokenAttributes with the sorted keys.
  const optionalSet = new Set(optional);
  const both = _byteSorted(new Set(required.filter((key) => optionalSet.has(key))));
  if (both.length > 0) {
    issues.push({
      path,
      type: "Invalid",
      value: both,
      message: "annotation keys cannot be both required and optional",
    });
  }

  const cacheTypePath = `${path}.cacheType`;
  const cacheTypes: readonly string[] = serviceAccountTokenCacheTypes;
  if (attributes.cacheType === "") {
    issues.push({
      path: cacheTypePath,
      type: "Required",
      message: `cacheType is required to be set when tokenAttributes is specified. Supported values are: ${cacheTypes.join(", ")}`,
    });
  } else if (!cacheTypes.includes(attributes.cacheType)) {
    issues.push({
      path: cacheTypePath,
      type: "NotSupported",
      value: attributes.cacheType,
      message: _supportedValues(cacheTypes),
    });
  }
}

function _validateAnnotationKeys(keys: readonly string[], path: string, issues: ConfigIssue[]): void {
  const seen = new Set<string>();
  keys.forEach((key, index) => {
    const keyPath = `${path}[${index}]`;
    // Annotation keys are qualified names except that case does not matter.
    for (const message of _qualifiedNameErrors(key.toLowerCase())) {
      issues.push({ path: keyPath, type: "Invalid", value: key, message });
    }
    if (seen.has(key)) issues.push({ path: keyPath, type: "Duplicate", value: key, message: "" });
    seen.add(key);
  });
}

// apimachinery's IsQualifiedName and IsDNS1123Subdomain as of Kubernetes 1.34, with their texts.
const _QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const _QUALIFIED_NAME_RE = new RegExp(`^${_QUALIFIED_NAME_FMT}$`);
const _QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const _DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const _DNS1123_SUBDOMAIN_FMT = `${_DNS1123_LABEL_FMT}(\\.${_DNS1123_LABEL_FMT})*`;
const _DNS1123_SUBDOMAIN_RE = new RegExp(`^${_DNS1123_SUBDOMAIN_FMT}$`);
const _DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function _regexError(message: string, format: string, ...examples: string[]): string {
  // Go appends "', " after each example and " or " between them, hence the double space.
  const shown = examples.map((example) => `'${example}', `).join(" or ");
  return `${message} (e.g. ${shown}regex used for validation is '${format}')`;
}

function _maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

function _qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = value;
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix === "") errors.push("prefix part must be non-empty");
    else errors.push(..._dns1123SubdomainErrors(prefix).map((message) => `prefix part ${message}`));
  } else {
    return [
      `a qualified name ${_regexError(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  // Go's len counts bytes.
  if (name === "") errors.push("name part must be non-empty");
  else if (Buffer.byteLength(name) > 63) errors.push(`name part ${_maxLenError(63)}`);
  if (!_QUALIFIED_NAME_RE.test(name)) {
    errors.push(
      `name part ${_regexError(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errors;
}

function _dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(value) > 253) errors.push(_maxLenError(253));
  if (!_DNS1123_SUBDOMAIN_RE.test(value)) {
    errors.push(_regexError(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errors;
}

function _supportedValues(values: readonly string[]): string {
  return `supported values: ${values.map(_goQuote).join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes one `CredentialProviderConfig` document, as strictly as the kubelet: JSON if the text
 * starts with `{` after whitespace, otherwise YAML (1.1, as go-yaml reads it; a stream with more
 * than one document is rejected). Unknown fields, duplicate keys, wrong types, a bad Go duration,
 * a wrong kind or apiVersion are errors; a `null` value counts as absent, as in Go. Does not
 * validate: see {@link validateConfig}.
 *
 * Async because the YAML parser is loaded only when a YAML document is met; JSON needs no import.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` with one line naming the file, e.g.
 *   `error decoding config "/etc/kubernetes/cp.yaml": strict decoding error: unknown field "providers[0].foo"`.
 */
export async function parseConfig(
  text: string,
  options: { file?: string } = {},
): Promise<CredentialProviderConfig> {
  const where = options.file === undefined ? "" : ` ${JSON.stringify(options.file)}`;
  try {
    const parsed = _isJsonText(text) ? _parseJson(text) : await _parseYaml(text);
    return _decode(parsed.data, parsed.strictErrors);
  } catch (error) {
    const message = _messageOf(error).replace(/\s*\n\s*/g, " ");
    throw new CredentialProviderError("CONFIG_INVALID", `error decoding config${where}: ${message}`, {
      cause: error,
    });
  }
}

interface _Parsed {
  data: unknown;
  /** Duplicate keys, which the kubelet reports together with unknown fields. */
  strictErrors: string[];
}

// apimachinery's IsJSONBuffer: the codec picks its JSON decoder when the text starts with '{'.
function _isJsonText(text: string): boolean {
  return /^[ \t\r\n]*\{/.test(text);
}

function _parseJson(text: string): _Parsed {
  const data: unknown = JSON.parse(text);
  return {
    data,
    strictErrors: _jsonDuplicateFields(text).map((path) => `duplicate field ${JSON.stringify(path)}`),
  };
}

/** Paths of repeated object keys in (already valid) JSON text, which JSON.parse silently drops. */
function _jsonDuplicateFields(text: string): string[] {
  const found: string[] = [];
  // One frame per open container: its keys so far (objects only) and the current key or index.
  const stack: { keys?: Set<string>; at: string | number }[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = stack.at(-1);
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (top?.keys !== undefined && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        top.at = key;
        if (top.keys.has(key)) found.push(_fieldPath(stack.map((frame) => frame.at)));
        top.keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (char === "{") {
      stack.push({ keys: new Set(), at: "" });
      expectKey = true;
    } else if (char === "[") {
      stack.push({ at: 0 });
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === "," && top !== undefined) {
      if (top.keys !== undefined) expectKey = true;
      else top.at = Number(top.at) + 1;
    }
  }
  return found;
}

async function _parseYaml(text: string): Promise<_Parsed> {
  const yaml = await import("yaml");
  const lineCounter = new yaml.LineCounter();
  const documents = yaml.parseAllDocuments(text, {
    version: "1.1",
    lineCounter,
    uniqueKeys: false,
    // go-yaml v2 leaves timestamps as strings when decoding into interface{}; so must we.
    customTags: (tags) =>
      tags.filter((tag) => typeof tag === "string" || tag.tag !== "tag:yaml.org,2002:timestamp"),
  });
  if (documents.length > 1) {
    throw new Error(`found ${documents.length} YAML documents, a config file must hold exactly one`);
  }
  const document = documents[0];
  if (document === undefined) return { data: null, strictErrors: [] };
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    const line = syntaxError.linePos?.[0].line;
    const message = syntaxError.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "");
    throw new Error(
      `error converting YAML to JSON: yaml: ${line === undefined ? "" : `line ${line}: `}${message}`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    throw new Error(`error converting YAML to JSON: yaml: ${_messageOf(error)}`);
  }
  const duplicates = _yamlDuplicateKeys(yaml, document, lineCounter);
  const strictErrors =
    duplicates.length === 0
      ? []
      : [`error converting YAML to JSON: yaml: unmarshal errors: ${duplicates.join("; ")}`];
  return { data, strictErrors };
}

/** go-yaml's strict "key already set in map" findings, one per repeated key. */
function _yamlDuplicateKeys(
  yaml: typeof import("yaml"),
  document: Document.Parsed,
  lineCounter: LineCounter,
): string[] {
  const found: string[] = [];
  yaml.visit(document, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = yaml.isScalar(pair.key) ? pair.key.value : pair.key;
        if (key === "<<") continue; // merge keys may repeat
        const identity = `${typeof key}:${String(key)}`;
        if (seen.has(identity)) {
          const offset = yaml.isNode(pair.key) ? (pair.key.range?.[0] ?? 0) : 0;
          const shown = typeof key === "string" ? _goQuote(key) : String(key);
          found.push(`line ${lineCounter.linePos(offset).line}: key ${shown} already set in map`);
        }
        seen.add(identity);
      }
    },
  });
  return found;
}

function _decode(raw: unknown, strictErrors: readonly string[]): CredentialProviderConfig {
  const data = _dropNulls(raw);
  const apiVersion = _typeMetaField(data, "apiVersion");
  const kind = _typeMetaField(data, "kind");
  // The order of the kubelet's codec: kind, then apiVersion, then the scheme lookup.
  if (kind === "") throw new Error("Object 'Kind' is missing");
  if (apiVersion === "") throw new Error("Object 'apiVersion' is missing");
  if (kind !== _KIND || !(configApiVersions as readonly string[]).includes(apiVersion)) {
    throw new Error(
      `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}`,
    );
  }
  const version = apiVersion as ConfigApiVersion;
  const result = credentialProviderConfigSchemas[version].safeParse(data);
  const unknownFields: string[] = [];
  for (const issue of result.error?.issues ?? []) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        unknownFields.push(`unknown field ${JSON.stringify(_fieldPath([...issue.path, key]))}`);
    } else {
      // Type and duration errors stop Go's decoder before strict errors are looked at.
      throw new Error(_fatalMessage(issue, data, version));
    }
  }
  const strict = [...strictErrors, ...unknownFields];
  if (strict.length > 0) throw new Error(`strict decoding error: ${strict.join(", ")}`);
  if (!result.success) throw new Error("invalid config");
  const config: CredentialProviderConfig = result.data;
  return config;
}

function _typeMetaField(data: unknown, field: "apiVersion" | "kind"): string {
  // A null or empty document decodes to an empty object, whose kind is missing.
  if (data === undefined || data === null) return "";
  if (!_isPlainObject(data)) {
    throw new Error(
      `couldn't get version/kind; json parse error: json: cannot unmarshal ${_jsonKind(data)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  }
  const value = data[field];
  if (value === undefined || typeof value === "string") return value ?? "";
  throw new Error(
    `couldn't get version/kind; json parse error: json: cannot unmarshal ${_jsonKind(value)} into Go struct field .${field} of type string`,
  );
}

// Go types by field path (indices dropped): [the field's type, a list element's type].
const _goFieldTypes: Record<string, readonly [string, string?]> = {
  providers: ["[]{v}.CredentialProvider", "{v}.CredentialProvider"],
  "providers.name": ["string"],
  "providers.matchImages": ["[]string", "string"],
  "providers.apiVersion": ["string"],
  "providers.args": ["[]string", "string"],
  "providers.env": ["[]{v}.ExecEnvVar", "{v}.ExecEnvVar"],
  "providers.env.name": ["string"],
  "providers.env.value": ["string"],
  "providers.tokenAttributes": ["{v}.ServiceAccountTokenAttributes"],
  "providers.tokenAttributes.serviceAccountTokenAudience": ["string"],
  "providers.tokenAttributes.cacheType": ["{v}.ServiceAccountTokenCacheType"],
  "providers.tokenAttributes.requireServiceAccount": ["bool"],
  "providers.tokenAttributes.requiredServiceAccountAnnotationKeys": ["[]string", "string"],
  "providers.tokenAttributes.optionalServiceAccountAnnotationKeys": ["[]string", "string"],
};

const _goStructs: Record<string, string> = {
  "": "CredentialProviderConfig",
  providers: "CredentialProvider",
  "providers.env": "ExecEnvVar",
  "providers.tokenAttributes": "ServiceAccountTokenAttributes",
};

/** Go's encoding/json UnmarshalTypeError text for a zod type issue, or the duration error. */
function _fatalMessage(issue: z.core.$ZodIssue, data: unknown, version: ConfigApiVersion): string {
  if (issue.code === "custom") return issue.message;
  const value = _valueAt(data, issue.path);
  const fields = issue.path.filter((segment) => typeof segment === "string");
  const fieldPath = fields.join(".");
  const kind = _jsonKind(value);
  // metav1.Duration unmarshals itself from a JSON string, so Go reports no struct field.
  if (fieldPath === "providers.defaultCacheDuration") {
    return `json: cannot unmarshal ${kind} into Go value of type string`;
  }
  const types = _goFieldTypes[fieldPath];
  if (types === undefined) return `${_fieldPath(issue.path)}: ${issue.message}`;
  const isElement = typeof issue.path.at(-1) === "number";
  const goType = ((isElement ? types[1] : types[0]) ?? types[0]).replaceAll(
    "{v}",
    version.slice(version.indexOf("/") + 1),
  );
  const struct = _goStructs[fields.slice(0, -1).join(".")] ?? "";
  return `json: cannot unmarshal ${kind} into Go struct field ${struct}.${fieldPath} of type ${goType}`;
}

function _jsonKind(value: unknown): string {
  if (typeof value === "string") return "string";
  if (typeof value === "number" || typeof value === "bigint") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "array";
  return "object";
}

function _valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** sigs.k8s.io/json's path form: `providers[0].matchImages[1]`. */
function _fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

// Go decodes a JSON null into a field by leaving the field at its zero value, so null is "absent".
// Null list elements stay for the schemas, which know each element's zero value.
function _dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_dropNulls);
  if (!_isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) out[key] = _dropNulls(item);
  }
  return out;
}

function _isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Loading

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

// ---------------------------------------------------------------------------------------------
// Helpers

function _durationError(text: string): string | undefined {
  try {
    parseDurationNanos(text);
    return undefined;
  } catch (error) {
    return _messageOf(error);
  }
}

/** Go sorts strings by bytes; JS compares UTF-16 units, which differs above U+FFFF. */
function _byteSorted(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function _messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
