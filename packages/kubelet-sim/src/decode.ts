/**
 * Reading a plugin's stdout as the kubelet does (`execPlugin.ExecPlugin` and `decodeResponse` in
 * k8s.io/kubernetes pkg/credentialprovider/plugin/plugin.go), in the kubelet's order and with its
 * error texts:
 *
 * 1. the group, version and kind are read with encoding/json, so anything but one JSON document
 *    (a log line before it, a second document after it) fails with
 *    `error reading GVK from response: couldn't get version/kind; json parse error: ...`;
 * 2. the apiVersion must equal the provider's configured apiVersion;
 * 3. the whole document is decoded strictly (unknown or duplicate fields, wrong types, a
 *    cacheDuration that is not a Go duration string, a kind other than CredentialProviderResponse).
 *    The kubelet hides the cause, which may quote a credential, and logs only
 *    `error decoding credential provider plugin response from stdout`; the simulator appends what
 *    it found in square brackets, naming fields, never values.
 *
 * The cacheKeyType is not checked here: any string decodes, and the kubelet refuses an invalid one
 * later (after the echo guard), with {@link invalidCacheKeyTypeError}.
 */
import {
  cacheKeyTypes,
  credentialProviderResponseSchema,
  parseDurationNanos,
} from "@kubelet-credential-provider/core";
import { scanJson } from "./json-scan.ts";
import { messageOf } from "./text.ts";

/** One credential of a response's auth map. */
export interface PluginAuth {
  username: string;
  password: string;
}

/** A decoded response. `cacheKeyType` is as the plugin wrote it ("" when absent). */
export interface PluginResponse {
  apiVersion: string;
  cacheKeyType: string;
  cacheDuration?: string;
  auth: Record<string, PluginAuth>;
}

/** The result of {@link decodePluginResponse}. */
export type DecodeResult = { ok: true; response: PluginResponse } | { ok: false; error: string };

/** The kubelet's text for every strict decoding failure. */
export const DECODE_ERROR = "error decoding credential provider plugin response from stdout";

const _KIND = "CredentialProviderResponse";
const _GVK_STRUCT =
  'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/**
 * Decodes a plugin's stdout as the kubelet does for a provider configured with `apiVersion`.
 *
 * @returns the response, or the kubelet's error text (with the simulator's detail in brackets for
 *   strict decoding failures). Never throws.
 */
export function decodePluginResponse(stdout: string, apiVersion: string): DecodeResult {
  const scan = scanJson(stdout);
  if (!scan.ok) return _gvkError(`couldn't get version/kind; json parse error: ${scan.error}`);
  const value = scan.value;

  // 1. json.DefaultMetaFactory.Interpret: apiVersion and kind as strings, nothing else looked at.
  let gotApiVersion = "";
  let gotKind = "";
  if (value !== null) {
    if (!_isObject(value)) {
      return _gvkError(
        `couldn't get version/kind; json parse error: json: cannot unmarshal ${_jsonKind(value)} into Go value of type ${_GVK_STRUCT}`,
      );
    }
    for (const field of ["apiVersion", "kind"] as const) {
      const fieldValue = value[field];
      if (fieldValue === undefined || fieldValue === null) continue;
      if (typeof fieldValue !== "string") {
        return _gvkError(
          `couldn't get version/kind; json parse error: json: cannot unmarshal ${_jsonKind(fieldValue)} into Go struct field .${field} of type string`,
        );
      }
      if (field === "apiVersion") gotApiVersion = fieldValue;
      else gotKind = fieldValue;
    }
  }
  const groupVersion = _parseGroupVersion(gotApiVersion);
  if (groupVersion === undefined) return _gvkError(`unexpected GroupVersion string: ${gotApiVersion}`);

  // 2. The version must be the one the provider is configured with (and was asked in).
  if (groupVersion !== apiVersion) {
    return {
      ok: false,
      error: `apiVersion from credential plugin response did not match expected apiVersion:${apiVersion}, actual apiVersion:${groupVersion}`,
    };
  }

  // 3. Strict decoding into the registered type.
  if (gotKind === "") return _decodeError("Object 'Kind' is missing");
  if (gotKind !== _KIND) return _decodeError(`kind is ${JSON.stringify(gotKind)}, not "${_KIND}"`);
  if (scan.duplicateFields.length > 0) {
    return _decodeError(
      scan.duplicateFields.map((path) => `duplicate field ${JSON.stringify(path)}`).join(", "),
    );
  }
  const record = _goZeroValues(value as Record<string, unknown>);
  const rawCacheKeyType = record.cacheKeyType;
  // Any string decodes as a cacheKeyType; validity is the kubelet's later check, not decoding's.
  const candidate =
    rawCacheKeyType === undefined || typeof rawCacheKeyType === "string"
      ? { ...record, cacheKeyType: cacheKeyTypes[0] }
      : record;
  const parsed = credentialProviderResponseSchema.safeParse(candidate);
  if (!parsed.success) return _decodeError(_describeIssues(parsed.error.issues, record));

  const response: PluginResponse = {
    apiVersion: parsed.data.apiVersion,
    cacheKeyType: typeof rawCacheKeyType === "string" ? rawCacheKeyType : "",
    auth: parsed.data.auth ?? {},
  };
  if (parsed.data.cacheDuration !== undefined) response.cacheDuration = parsed.data.cacheDuration;
  return { ok: true, response };
}

/** The kubelet's text for a cacheKeyType other than Image, Registry or Global (or none). */
export function invalidCacheKeyTypeError(cacheKeyType: string): string {
  return `credential provider plugin did not return a valid cacheKeyType: ${_goQuote(cacheKeyType)}`;
}

/** Best effort, for redaction: every string under `auth.*.password` in a plugin's stdout. */
export function passwordsIn(stdout: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return [];
  }
  if (!_isObject(value) || !_isObject(value.auth)) return [];
  return Object.values(value.auth).flatMap((entry) =>
    _isObject(entry) && typeof entry.password === "string" ? [entry.password] : [],
  );
}

function _gvkError(message: string): DecodeResult {
  return { ok: false, error: `error reading GVK from response: ${message}` };
}

function _decodeError(detail: string): DecodeResult {
  return { ok: false, error: `${DECODE_ERROR} [${detail}]` };
}

/** apimachinery's ParseGroupVersion, then GroupVersion.String(); undefined when it fails. */
function _parseGroupVersion(text: string): string | undefined {
  if (text === "" || text === "/") return "";
  const parts = text.split("/");
  if (parts.length === 1) return text;
  if (parts.length === 2) return parts[0] === "" ? (parts[1] ?? "") : text;
  return undefined;
}

/**
 * What Go's decoder fills in: a null field is absent, a null auth entry is an empty AuthConfig,
 * and a missing username or password is "".
 */
function _goZeroValues(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== null) out[key] = value;
  if (_isObject(out.auth)) {
    const auth: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(out.auth)) {
      if (entry === null) auth[key] = { username: "", password: "" };
      else if (_isObject(entry)) {
        const filled: Record<string, unknown> = { username: "", password: "" };
        for (const [field, fieldValue] of Object.entries(entry)) {
          if (fieldValue !== null) filled[field] = fieldValue;
        }
        auth[key] = filled;
      } else auth[key] = entry;
    }
    out.auth = auth;
  }
  return out;
}

interface _Issue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
  expected?: string;
}

/** Names the fields at fault, never their values (which may be credentials). */
function _describeIssues(issues: readonly _Issue[], record: Record<string, unknown>): string {
  const texts = issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return (issue.keys ?? [])
        .map((key) => `unknown field ${JSON.stringify(path === "" ? key : `${path}.${key}`)}`)
        .join(", ");
    }
    if (path === "cacheDuration" && typeof record.cacheDuration === "string") {
      try {
        parseDurationNanos(record.cacheDuration);
      } catch (error) {
        return `cacheDuration: ${messageOf(error)}`;
      }
    }
    const value = _valueAt(record, issue.path);
    if (issue.code === "invalid_value" && typeof value !== "string") {
      return `${path || "(root)"}: expected string, got ${_jsonKind(value)}`;
    }
    if (issue.code === "invalid_type") {
      return `${path || "(root)"}: expected ${issue.expected ?? "another type"}, got ${_jsonKind(value)}`;
    }
    return `${path || "(root)"}: ${issue.message}`;
  });
  return [...new Set(texts)].join("; ");
}

function _valueAt(record: unknown, path: readonly PropertyKey[]): unknown {
  let value = record;
  for (const segment of path) {
    if (!_isObject(value) && !Array.isArray(value)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON kind as Go's decoder names it in its errors. */
function _jsonKind(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "array";
  return "object";
}

/** Go's %q, as far as the texts met here go (JSON's quoting agrees on printable text). */
function _goQuote(text: string): string {
  return JSON.stringify(text);
}
