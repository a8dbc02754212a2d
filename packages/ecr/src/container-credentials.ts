/**
 * The credentials of the ECS task role or the EKS Pod Identity association, from the container
 * credentials endpoint, on core's HTTP client. As the AWS SDK reads it:
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) wins over
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be https or a loopback or ECS/EKS agent address;
 * the Authorization header is the content of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN.
 */
import { CredentialProviderError } from "@kubelet-credential-provider/core";
import { expectSuccess, readCredentialAnswer, readTokenFile } from "./credential-answer.ts";
import type { MetadataContext, SourceOutcome } from "./imds.ts";

const _ECS_AGENT = "http://169.254.170.2";
// The hosts an http:// FULL_URI may name: the ECS and EKS agents, and loopback.
const _AGENT_HOSTS = new Set(["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]"]);
const _ATTEMPT_TIMEOUT_MS = 5_000;

/** True when the environment names a container credentials endpoint. */
export function containerCredentialsConfigured(env: MetadataContext["env"]): boolean {
  return Boolean(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
}

/**
 * The container's credentials. A failure to reach or read the endpoint is thrown (a
 * `CloudCallError` naming it); a setting that cannot be used is `CONFIG_INVALID`.
 */
export async function containerCredentials(context: MetadataContext): Promise<SourceOutcome> {
  const { http, env, log, secrets } = context;
  const url = containerCredentialsUrl(env);
  const token = await _authorization(env);
  secrets.add(token);
  log.v(3, `credentials: asking the container credentials endpoint ${url.origin}`);
  const response = await http.request(url, {
    headers: token ? { authorization: token } : {},
    endpoint: `container credentials (${url.host})`,
    timeoutMs: _ATTEMPT_TIMEOUT_MS,
  });
  const credentials = readCredentialAnswer(expectSuccess(response), secrets, (context.now ?? Date.now)());
  return { credentials, source: `the container credentials endpoint (${url.host})` };
}

/** @throws CredentialProviderError `CONFIG_INVALID` */
export function containerCredentialsUrl(env: MetadataContext["env"]): URL {
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  if (relative) {
    const url = relative.startsWith("/") ? URL.parse(`${_ECS_AGENT}${relative}`) : null;
    if (url?.origin === _ECS_AGENT) return url;
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path (it must start with /)",
    );
  }
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "";
  const url = URL.parse(full);
  if (url?.protocol === "https:") return url;
  if (url?.protocol === "http:" && (_AGENT_HOSTS.has(url.hostname) || _isLoopbackV4(url.hostname)))
    return url;
  throw new CredentialProviderError(
    "CONFIG_INVALID",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// URL, or http:// on loopback or the ECS/EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)",
  );
}

async function _authorization(env: MetadataContext["env"]): Promise<string | undefined> {
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  const token = file
    ? await readTokenFile("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file)
    : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (token && /[\r\n]/.test(token)) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `the container authorization token (${file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN"}) spans several lines`,
    );
  }
  return token || undefined;
}

function _isLoopbackV4(hostname: string): boolean {
  const parts = hostname.split(".");
  return (
    parts.length === 4 && parts[0] === "127" && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}
