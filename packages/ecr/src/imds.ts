/**
 * The node's instance role from the EC2 instance metadata service (IMDSv2), on core's HTTP
 * client: a session token (PUT /latest/api/token), the role's name, then its credentials. Core
 * retries what a busy or restarting IMDS answers (429, 5xx, dropped connections, slow or cut-off
 * answers) for as long as the deadline allows, so one bad answer no longer fails the exec, and a
 * persistent failure is reported as what it is rather than as "no credentials".
 *
 * As the AWS SDK: AWS_EC2_METADATA_DISABLED (any value but "false") turns IMDS off;
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, else AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (IPv4 or IPv6),
 * says where it is; a token refused with 403, 404 or 405 falls back to IMDSv1 unless
 * AWS_EC2_METADATA_V1_DISABLED is set.
 */
import type { HttpClient, Logger, SecretRegistry } from "@kubelet-credential-provider/core";
import { CloudCallError, CredentialProviderError } from "@kubelet-credential-provider/core";
import type { AwsCredentials } from "./clients.ts";
import { expectSuccess, readCredentialAnswer } from "./credential-answer.ts";

export interface MetadataContext {
  http: HttpClient;
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  secrets: SecretRegistry;
  /** The clock the credentials' expiry is checked against. */
  now?: () => number;
}

/** What a credential source found: credentials, or why it has none. */
export type SourceOutcome = { credentials: AwsCredentials; source: string } | { absent: string };

export const IMDS_IPV4_ENDPOINT = "http://169.254.169.254";
export const IMDS_IPV6_ENDPOINT = "http://[fd00:ec2::254]";
const _TOKEN_TTL_SECONDS = "21600";
const _ROLE_PATH = "/latest/meta-data/iam/security-credentials/";
// IMDS answers in milliseconds; an attempt that takes seconds is retried, not waited out.
const _ATTEMPT_TIMEOUT_MS = 5_000;
// An IAM role name: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
const _ROLE_NAME = /^[\w+=,.@-]{1,128}$/;

/** True unless AWS_EC2_METADATA_DISABLED turns IMDS off (any value but "false", as the SDK reads it). */
export function imdsEnabled(env: MetadataContext["env"]): boolean {
  const disabled = env.AWS_EC2_METADATA_DISABLED;
  return disabled === undefined || disabled === "" || disabled.toLowerCase() === "false";
}

/**
 * Where IMDS is: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the address of
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (IPv4 by default).
 *
 * @throws CredentialProviderError `CONFIG_INVALID` for a setting that cannot be used
 */
export function imdsEndpoint(env: MetadataContext["env"]): URL {
  const configured = env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  if (configured) {
    const url = URL.parse(configured);
    if (url && (url.protocol === "http:" || url.protocol === "https:")) return url;
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `AWS_EC2_METADATA_SERVICE_ENDPOINT is ${JSON.stringify(configured.slice(0, 200))}, not an http:// or https:// URL`,
    );
  }
  const mode = env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ?? "IPv4";
  if (/^ipv4$/i.test(mode) || mode === "") return new URL(IMDS_IPV4_ENDPOINT);
  if (/^ipv6$/i.test(mode)) return new URL(IMDS_IPV6_ENDPOINT);
  throw new CredentialProviderError(
    "CONFIG_INVALID",
    `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is ${JSON.stringify(mode.slice(0, 200))}; use IPv4 or IPv6`,
  );
}

/**
 * The instance role's credentials; `absent` when IMDS is off or the instance has no role. A
 * failure to reach or read IMDS is thrown (a `CloudCallError` naming the IMDS call).
 */
export async function imdsCredentials(context: MetadataContext): Promise<SourceOutcome> {
  const { http, env, log, secrets } = context;
  if (!imdsEnabled(env)) return { absent: "IMDS is off (AWS_EC2_METADATA_DISABLED)" };
  const base = imdsEndpoint(env);
  log.v(3, `credentials: asking IMDS at ${base.origin} for the instance role`);
  const token = await _sessionToken(base, context);
  const headers: Record<string, string> = token ? { "x-aws-ec2-metadata-token": token } : {};

  const list = await http.request(new URL(_ROLE_PATH, base), {
    headers,
    endpoint: "IMDS instance role",
    timeoutMs: _ATTEMPT_TIMEOUT_MS,
  });
  if (list.status === 404) return { absent: "the instance has no IAM role (IMDS lists no instance profile)" };
  const role = expectSuccess(list)
    .text()
    .split("\n")
    .map((line) => line.trim())
    .find(Boolean);
  if (!role) return { absent: "the instance has no IAM role (IMDS lists no instance profile)" };
  if (!_ROLE_NAME.test(role)) {
    throw new CloudCallError({
      endpoint: list.endpoint,
      fault: "malformed",
      status: list.status,
      detail: "answered something that is not an IAM role name",
    });
  }

  const answer = await http.request(new URL(`${_ROLE_PATH}${role}`, base), {
    headers,
    endpoint: `IMDS credentials (role ${role})`,
    timeoutMs: _ATTEMPT_TIMEOUT_MS,
  });
  const credentials = readCredentialAnswer(expectSuccess(answer), secrets, (context.now ?? Date.now)());
  return { credentials, source: `IMDS (instance role ${role})` };
}

/** The IMDSv2 session token; undefined to fall back to IMDSv1, where that is allowed. */
async function _sessionToken(base: URL, context: MetadataContext): Promise<string | undefined> {
  const { http, env, log, secrets } = context;
  const response = await http.request(new URL("/latest/api/token", base), {
    method: "PUT",
    headers: { "x-aws-ec2-metadata-token-ttl-seconds": _TOKEN_TTL_SECONDS },
    endpoint: "IMDS token",
    timeoutMs: _ATTEMPT_TIMEOUT_MS,
  });
  if (response.status === 403 || response.status === 404 || response.status === 405) {
    const v1Disabled = env.AWS_EC2_METADATA_V1_DISABLED;
    if (v1Disabled && v1Disabled.toLowerCase() !== "false") {
      expectSuccess(response, "and the IMDSv1 fallback is off (AWS_EC2_METADATA_V1_DISABLED)");
    }
    log.v(2, `IMDS token answered HTTP ${response.status}: falling back to IMDSv1`);
    return undefined;
  }
  const token = expectSuccess(response).text().trim();
  secrets.add(token);
  if (!token || /[\r\n]/.test(token)) {
    throw new CloudCallError({
      endpoint: response.endpoint,
      fault: "malformed",
      status: response.status,
      detail: "answered an empty or unusable session token",
    });
  }
  return token;
}
