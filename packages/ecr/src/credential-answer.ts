/**
 * The credentials document IMDS and the container credentials endpoint both answer:
 * `{ AccessKeyId, SecretAccessKey, Token, Expiration }`. Its secrets are registered before
 * anything else is checked, and no error quotes any of it (core's `json()` names the endpoint,
 * not the body, when the answer is not JSON).
 */
import { readFile } from "node:fs/promises";
import type { HttpResponse, SecretRegistry } from "@kubelet-credential-provider/core";
import {
  assertCredentialFresh,
  CloudCallError,
  CredentialProviderError,
} from "@kubelet-credential-provider/core";
import type { AwsCredentials } from "./clients.ts";

/**
 * Reads a 200 answer holding credentials, and refuses credentials that have expired or expire
 * within a minute.
 *
 * @throws CloudCallError `malformed` (not JSON, a field missing), `rejected` (a `Code` other than
 *   `Success`), `expired`
 */
export function readCredentialAnswer(
  response: HttpResponse,
  secrets: SecretRegistry,
  now: number = Date.now(),
): AwsCredentials {
  const endpoint = response.endpoint;
  const document = response.json();
  const fields = (typeof document === "object" && document !== null ? document : {}) as Record<
    string,
    unknown
  >;
  const text = (name: string) =>
    typeof fields[name] === "string" && fields[name] !== "" ? (fields[name] as string) : undefined;
  const secretAccessKey = text("SecretAccessKey");
  const sessionToken = text("Token");
  secrets.add(secretAccessKey);
  secrets.add(sessionToken);
  const code = text("Code");
  if (code !== undefined && code !== "Success") {
    const safe = /^[A-Za-z][\w.]{0,63}$/.test(code) ? code : "not Success";
    throw new CloudCallError({
      endpoint,
      fault: "rejected",
      cause: safe,
      status: response.status,
      detail: `answered without credentials (Code ${safe})`,
    });
  }
  const accessKeyId = text("AccessKeyId");
  const missing = [
    !accessKeyId && "AccessKeyId",
    !secretAccessKey && "SecretAccessKey",
    !text("Expiration") && "Expiration",
  ].filter(Boolean);
  if (!accessKeyId || !secretAccessKey || missing.length > 0) {
    throw new CloudCallError({
      endpoint,
      fault: "malformed",
      status: response.status,
      detail: `answered credentials without ${missing.join(", ")}`,
    });
  }
  const expiration = new Date(text("Expiration") as string);
  if (Number.isNaN(expiration.getTime())) {
    throw new CloudCallError({
      endpoint,
      fault: "malformed",
      status: response.status,
      detail: "answered credentials with an Expiration that is not a time",
    });
  }
  assertCredentialFresh(expiration, endpoint, now);
  const credentials: AwsCredentials = { accessKeyId, secretAccessKey, expiration };
  if (sessionToken) credentials.sessionToken = sessionToken;
  return credentials;
}

/**
 * Passes a 2xx answer; anything else that core handed back (a 4xx: core retries 429 and 5xx
 * itself) is a refusal, reported by status only.
 *
 * @throws CloudCallError `rejected`
 */
export function expectSuccess(response: HttpResponse, what = ""): HttpResponse {
  if (response.status >= 200 && response.status < 300) return response;
  throw new CloudCallError({
    endpoint: response.endpoint,
    fault: "rejected",
    status: response.status,
    detail: `answered HTTP ${response.status}${what ? ` ${what}` : ""}`,
  });
}

/**
 * The trimmed content of the token file an environment variable names (a web identity token, the
 * container authorization token). The caller registers it as a secret.
 *
 * @param variable the variable that names the file, for the message: `AWS_WEB_IDENTITY_TOKEN_FILE`
 * @throws CredentialProviderError `CONFIG_INVALID` when the file cannot be read
 */
export async function readTokenFile(variable: string, file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `${variable} ${file} cannot be read${typeof code === "string" ? ` (${code})` : ""}`,
    );
  }
}
