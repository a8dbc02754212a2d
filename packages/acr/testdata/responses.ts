/**
 * An answer as core's HTTP client gives it, for unit tests with a fake client: `json()` of a body
 * that is not JSON is core's `malformed` error naming `endpoint`.
 */
import type { HttpResponse } from "@kubelet-credential-provider/core";
import { CloudCallError } from "@kubelet-credential-provider/core";

export function coreResponse(
  status: number,
  body = "",
  headers: Record<string, string> = {},
  endpoint = "x",
): HttpResponse {
  return {
    status,
    headers,
    body: new TextEncoder().encode(body),
    endpoint,
    text: () => body,
    json: () => {
      try {
        return JSON.parse(body);
      } catch {
        throw new CloudCallError({
          endpoint,
          fault: "malformed",
          status,
          detail: `answered HTTP ${status} with a body that is not JSON`,
        });
      }
    },
  };
}
