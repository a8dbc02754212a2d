/**
 * Decoding the kubelet's request and checking a provider's answer: the two ends of the protocol,
 * kept pure so that they can be tested without processes.
 */
import { parseDurationNanos } from "./duration.ts";
import { CredentialProviderError } from "./errors.ts";
import { safeParseImage } from "./image.ts";
import { locateJsonError } from "./json-error.ts";
import type {
  ApiVersion,
  CredentialProviderRequest,
  CredentialProviderResponse,
  CredentialProviderResult,
} from "./protocol.ts";
import {
  API_VERSION_V1,
  apiVersions,
  credentialProviderRequestSchema,
  credentialProviderResponseSchema,
  formatSchemaIssues,
  isApiVersion,
} from "./protocol.ts";
import type { SecretRegistry } from "./secrets.ts";

/**
 * Parses the text the kubelet wrote to stdin. The service account token is registered as a secret
 * before anything can fail, so no error message can carry it.
 */
export function decodeRequest(text: string, secrets: SecretRegistry): CredentialProviderRequest {
  if (text.trim() === "") {
    throw new CredentialProviderError(
      "BAD_REQUEST",
      "empty request on stdin: expected one CredentialProviderRequest JSON document",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Never the runtime's message: V8's quotes the input, which may hold a service account token.
    const at = locateJsonError(text)?.byte;
    throw new CredentialProviderError(
      "BAD_REQUEST",
      `request on stdin is not valid JSON${at === undefined ? "" : ` (at byte ${at})`}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
    throw new CredentialProviderError("BAD_REQUEST", `request must be a JSON object, got ${got}`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.serviceAccountToken === "string") secrets.add(record.serviceAccountToken);
  if (record.kind !== "CredentialProviderRequest") {
    throw new CredentialProviderError(
      "BAD_REQUEST",
      `kind must be "CredentialProviderRequest", got ${_describe(record.kind)}`,
    );
  }
  if (!isApiVersion(record.apiVersion)) {
    throw new CredentialProviderError(
      "UNSUPPORTED_VERSION",
      `apiVersion ${_describe(record.apiVersion)} is not supported; supported: ${apiVersions.join(", ")}`,
    );
  }
  if (record.image === undefined || record.image === "") {
    throw new CredentialProviderError("BAD_REQUEST", "image is required and must not be empty");
  }
  const parsed = credentialProviderRequestSchema.safeParse(value);
  if (!parsed.success) {
    throw new CredentialProviderError(
      "BAD_REQUEST",
      `invalid request: ${formatSchemaIssues(parsed.error.issues)}`,
    );
  }
  const image = safeParseImage(parsed.data.image);
  if (!image.ok) throw image.error;
  const request = parsed.data;
  // The service account fields exist only in v1; older kubelets never send them.
  if (request.apiVersion !== API_VERSION_V1) {
    delete request.serviceAccountToken;
    delete request.serviceAccountAnnotations;
  }
  return request;
}

/**
 * Turns a provider's result into the response the kubelet will decode, or fails if the kubelet
 * would reject it. A provider's bug becomes an error exit, never an answer the kubelet drops.
 */
export function encodeResponse(
  result: CredentialProviderResult,
  apiVersion: ApiVersion,
  secrets: SecretRegistry,
): CredentialProviderResponse {
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new CredentialProviderError("INVALID_RESPONSE", "provider returned no result object");
  }
  for (const auth of Object.values((result as { auth?: unknown }).auth ?? {})) {
    if (auth && typeof auth === "object") secrets.add((auth as { password?: string }).password);
  }
  const candidate = { kind: "CredentialProviderResponse", apiVersion, ...result };
  if ("kind" in result || "apiVersion" in result) {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      "provider result must not set kind or apiVersion: the harness answers in the request's version",
    );
  }
  const parsed = credentialProviderResponseSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `provider returned an invalid response: ${formatSchemaIssues(parsed.error.issues)}`,
    );
  }
  if (parsed.data.cacheDuration !== undefined && parseDurationNanos(parsed.data.cacheDuration) < 0n) {
    throw new CredentialProviderError(
      "INVALID_RESPONSE",
      `provider returned a negative cacheDuration ${parsed.data.cacheDuration}`,
    );
  }
  return parsed.data;
}

function _describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
