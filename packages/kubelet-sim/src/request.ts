/**
 * The request the kubelet writes to a plugin's stdin: one JSON document and a newline, encoded as
 * the kubelet's JSON serializer (Go's encoding/json) encodes it: fields in the order kind,
 * apiVersion, image, serviceAccountToken, serviceAccountAnnotations; empty service account fields
 * left out; map keys sorted; `<`, `>`, `&`, U+2028 and U+2029 escaped.
 */
import { API_VERSION_V1 } from "@kubelet-credential-provider/core";

/** The service account fields of a v1 request. */
export interface RequestServiceAccount {
  token?: string;
  annotations?: Readonly<Record<string, string>>;
}

/**
 * Encodes a `CredentialProviderRequest` in `apiVersion` for `image` (already normalised). The
 * service account fields exist only in v1; other versions never carry them.
 */
export function encodePluginRequest(
  apiVersion: string,
  image: string,
  serviceAccount: RequestServiceAccount = {},
): string {
  const request: Record<string, unknown> = { kind: "CredentialProviderRequest", apiVersion, image };
  if (apiVersion === API_VERSION_V1) {
    if (serviceAccount.token) request.serviceAccountToken = serviceAccount.token;
    const annotations = serviceAccount.annotations ?? {};
    const keys = Object.keys(annotations).sort(_byteOrder);
    if (keys.length > 0) {
      request.serviceAccountAnnotations = Object.fromEntries(keys.map((key) => [key, annotations[key]]));
    }
  }
  return `${_goJson(request)}\n`;
}

/** JSON.stringify with encoding/json's HTML-safe escapes. */
function _goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Go sorts map keys by their UTF-8 bytes. */
function _byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
