/**
 * The legacy dockercfg map that the `dockercfg` and `dockercfg-url` flows read
 * (`{"<registry>": {"username", "password", "email", "auth"}}`), decoded as the Go plugin's
 * `credentialconfig` does: field names matched case-insensitively (Go's encoding/json), `auth`
 * (base64 of `user:password`, padding optional, newlines ignored, split at the first colon) wins
 * over `username`/`password`, and a malformed `auth` is an error. A Docker `config.json`
 * (`{"auths": {...}}`) is accepted too.
 *
 * Then only the entries that apply to the requested image are answered, as the kubelet's keyring
 * would pick them (`lookupAuth`), each keyed by the registry (and path) it is for.
 */
import type { AuthConfig, SecretRegistry } from "@kubelet-credential-provider/core";
import { CredentialProviderError, lookupAuth, normalizeAuthKey } from "@kubelet-credential-provider/core";

export interface DockerConfigEntry {
  username: string;
  password: string;
}

/** A legacy dockercfg: registry key (as written) to credentials. */
export type DockerConfig = Record<string, DockerConfigEntry>;

const PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;
const UNPADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2,3})?$/;

/**
 * Decodes a dockercfg `auth` field: base64 (standard alphabet) of `user:password`. With a
 * trailing `=` the padded form is required, without one the unpadded form; `\r` and `\n` anywhere
 * are ignored (as Go's decoder ignores them). The text is split at the first colon.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` with a message that never includes the field.
 */
export function decodeDockerConfigAuth(field: string): DockerConfigEntry {
  const fail = (reason: string) => new CredentialProviderError("CONFIG_INVALID", `the auth field ${reason}`);
  if (typeof field !== "string") throw fail("is not a string");
  const compact = field.replace(/[\r\n]/g, "");
  const padded = field.trim().endsWith("=");
  if (!(padded ? PADDED : UNPADDED).test(compact)) {
    throw fail(`is not ${padded ? "padded" : "unpadded"} base64`);
  }
  const text = Buffer.from(compact, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon === -1) throw fail("must be formatted as base64(username:password)");
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Parses a dockercfg (legacy map, or config.json with `auths`), registering every password.
 *
 * @param source Where it came from, for messages (e.g. `instance attribute google-dockercfg`).
 * @throws CredentialProviderError `CONFIG_INVALID`
 */
export function parseDockerConfig(text: string, source: string, secrets?: SecretRegistry): DockerConfig {
  const fail = (reason: string) => new CredentialProviderError("CONFIG_INVALID", `${source}: ${reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('is not JSON (expected a dockercfg map {"<registry>": {"auth": ...}})');
  }
  if (!_isObject(parsed)) throw fail("is not a JSON object of registries");
  const keys = Object.keys(parsed);
  const auths = keys.length === 1 && keys[0] === "auths" && _isObject(parsed.auths) ? parsed.auths : parsed;

  const config: DockerConfig = {};
  for (const [key, value] of Object.entries(auths)) {
    if (value === null) continue;
    if (!_isObject(value)) throw fail(`the entry for ${_quote(key)} is not an object`);
    const fields: Record<string, string> = {};
    for (const [name, field] of Object.entries(value)) {
      const lower = name.toLowerCase();
      if (!["username", "password", "email", "auth"].includes(lower)) continue;
      if (typeof field !== "string") throw fail(`the ${lower} of ${_quote(key)} is not a string`);
      fields[lower] = field;
    }
    secrets?.add(fields.password);
    secrets?.add(fields.auth);
    let entry: DockerConfigEntry = { username: fields.username ?? "", password: fields.password ?? "" };
    if (fields.auth) {
      try {
        entry = decodeDockerConfigAuth(fields.auth);
      } catch (error) {
        if (error instanceof CredentialProviderError) throw fail(`${_quote(key)}: ${error.message}`);
        throw error;
      }
      secrets?.add(entry.password);
    }
    config[key] = entry;
  }
  return config;
}

export interface SelectedCredentials {
  /** The answer's auth map: normalised key (registry and path) to credentials, most specific first. */
  auth: Record<string, AuthConfig>;
  /** Whether any entry of the whole config is scoped to a path (then answers must be cached per image). */
  pathScoped: boolean;
}

/**
 * The entries of `config` that apply to `image`, as the kubelet's keyring would try them (most
 * specific first), keyed by their normalised key (`https://gcr.io/v1/` → `gcr.io`). Entries
 * without a username and a password are skipped; of entries with the same normalised key, the
 * first wins.
 */
export function selectCredentials(config: DockerConfig, image: string): SelectedCredentials {
  const auth: Record<string, AuthConfig> = {};
  for (const { key, value } of lookupAuth(config, image)) {
    const normalized = normalizeAuthKey(key);
    if (normalized === undefined || Object.hasOwn(auth, normalized)) continue;
    if (value.username === "" && value.password === "") continue;
    auth[normalized] = { username: value.username, password: value.password };
  }
  const pathScoped = Object.keys(config).some((key) => normalizeAuthKey(key)?.includes("/") === true);
  return { auth, pathScoped };
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function _quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}
