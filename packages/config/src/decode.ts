/**
 * Decoding one `CredentialProviderConfig` document as strictly as the kubelet's codec, failing
 * with the texts Go's decoders give: a missing or unknown kind or apiVersion, a wrong type,
 * unknown fields and duplicate keys.
 */

import { CredentialProviderError } from "@kubelet-credential-provider/core";
import type * as z from "zod/mini";
import { _fieldPath, _parseDocument } from "./_document.ts";
import { _messageOf } from "./_error-text.ts";
import type { ConfigApiVersion, CredentialProviderConfig } from "./schema.ts";
import { _KIND, configApiVersions, credentialProviderConfigSchemas } from "./schema.ts";

/**
 * Decodes one `CredentialProviderConfig` document, as strictly as the kubelet: JSON if the text
 * starts with `{` after whitespace, otherwise YAML (1.1, as go-yaml reads it; a stream with more
 * than one document is rejected). Unknown fields, duplicate keys, wrong types, a bad Go duration,
 * a wrong kind or apiVersion are errors; a `null` value counts as absent, as in Go. Does not
 * validate: see `validateConfig`.
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
    const parsed = await _parseDocument(text);
    return _decode(parsed.data, parsed.strictErrors);
  } catch (error) {
    const message = _messageOf(error).replace(/\s*\n\s*/g, " ");
    throw new CredentialProviderError("CONFIG_INVALID", `error decoding config${where}: ${message}`, {
      cause: error,
    });
  }
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
