/**
 * `azure.json`, the cloud config file AKS and self-managed clusters pass as the plugin's one
 * positional argument. Only the fields this provider uses are read; the rest (subscriptionId,
 * resourceGroup, ...) are ignored. Field names are matched case-insensitively, and a later field
 * wins over an earlier one, as Go's encoding/json does.
 *
 * Secrets (`aadClientSecret`, `aadClientCertPassword`) are registered as soon as the file is parsed,
 * and no message ever quotes the file's content.
 */
import type { SecretRegistry } from "@kubelet-credential-provider/core";
import { CredentialProviderError, locateJsonError } from "@kubelet-credential-provider/core";
import type { AzureCloud } from "./clouds.ts";
import { resolveCloud } from "./clouds.ts";

export interface AzureConfig {
  /** The file it was read from, for messages. */
  file: string;
  cloud: AzureCloud;
  tenantId?: string;
  aadClientId?: string;
  aadClientSecret?: string;
  aadClientCertPath?: string;
  aadClientCertPassword?: string;
  useManagedIdentityExtension: boolean;
  /** A client id, or a resource id when it contains `/subscriptions/`. */
  userAssignedIdentityID?: string;
  aadFederatedTokenFile?: string;
  useFederatedWorkloadIdentityExtension: boolean;
}

const STRING_FIELDS = [
  "cloud",
  "tenantId",
  "aadClientId",
  "aadClientSecret",
  "aadClientCertPath",
  "aadClientCertPassword",
  "userAssignedIdentityID",
  "aadFederatedTokenFile",
] as const;
const BOOLEAN_FIELDS = ["useManagedIdentityExtension", "useFederatedWorkloadIdentityExtension"] as const;
const SECRET_FIELDS = new Set(["aadClientSecret", "aadClientCertPassword"]);
const CANONICAL: ReadonlyMap<string, string> = new Map(
  [...STRING_FIELDS, ...BOOLEAN_FIELDS].map((name) => [name.toLowerCase(), name]),
);

/** The largest azure.json read. */
export const MAX_AZURE_JSON_BYTES = 1024 * 1024;

/**
 * Parses the text of an azure.json.
 *
 * @param secrets Where to register the secrets found, before anything can fail on them.
 * @throws CredentialProviderError `CONFIG_INVALID`, naming the file and the field.
 */
export function parseAzureConfig(text: string, file: string, secrets?: SecretRegistry): AzureConfig {
  const fail = (reason: string) => new CredentialProviderError("CONFIG_INVALID", `${file}: ${reason}`);
  const body = text.replace(/^\uFEFF/, "");
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    // The parser's message quotes the text around the error, which may be a secret: only the place.
    throw fail(`not valid JSON${_where(body)}`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw fail("not a JSON object");
  }
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(document)) {
    const name = CANONICAL.get(key.toLowerCase());
    if (name !== undefined) values.set(name, value);
  }
  for (const name of SECRET_FIELDS) {
    const value = values.get(name);
    if (typeof value === "string") secrets?.add(value);
  }
  const string = (name: (typeof STRING_FIELDS)[number]): string | undefined => {
    const value = values.get(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw fail(`${name} must be a string`);
    const trimmed = SECRET_FIELDS.has(name) ? value : value.trim();
    return trimmed === "" ? undefined : trimmed;
  };
  const boolean = (name: (typeof BOOLEAN_FIELDS)[number]): boolean => {
    const value = values.get(name);
    if (value === undefined || value === null) return false;
    if (typeof value !== "boolean") throw fail(`${name} must be true or false`);
    return value;
  };
  const config: AzureConfig = {
    file,
    cloud: resolveCloud(string("cloud"), file),
    useManagedIdentityExtension: boolean("useManagedIdentityExtension"),
    useFederatedWorkloadIdentityExtension: boolean("useFederatedWorkloadIdentityExtension"),
  };
  for (const name of STRING_FIELDS) {
    if (name === "cloud") continue;
    const value = string(name);
    if (value !== undefined) config[name] = value;
  }
  return config;
}

/**
 * Reads and parses an azure.json.
 *
 * @throws CredentialProviderError `CONFIG_INVALID` when the file is missing, unreadable, too large
 *   or invalid.
 */
export async function loadAzureConfig(
  file: string,
  options: { secrets?: SecretRegistry; readFile?: (path: string) => Promise<Uint8Array> } = {},
): Promise<AzureConfig> {
  const read =
    options.readFile ?? ((path: string) => process.getBuiltinModule("node:fs/promises").readFile(path));
  let bytes: Uint8Array;
  try {
    bytes = await read(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : typeof code === "string"
              ? code
              : "unreadable";
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `cannot read the Azure cloud config ${file}: ${reason} (the first argument is the path of azure.json)`,
      { cause: error },
    );
  }
  if (bytes.length > MAX_AZURE_JSON_BYTES) {
    throw new CredentialProviderError("CONFIG_INVALID", `${file}: larger than ${MAX_AZURE_JSON_BYTES} bytes`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CredentialProviderError("CONFIG_INVALID", `${file}: not UTF-8 text`);
  }
  return parseAzureConfig(text, file, options.secrets);
}

/** " (line L column C)" of a JSON syntax error, without the text around it. */
function _where(text: string): string {
  if (text.trim() === "") return " (the file is empty)";
  const at = locateJsonError(text);
  return at ? ` (line ${at.line} column ${at.column})` : "";
}
