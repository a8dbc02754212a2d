/**
 * The node's own AWS credentials, found in the order of the AWS SDK's default chain, with every
 * network fetch on core's HTTP client:
 *
 * 1. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (unless AWS_PROFILE is set);
 * 2. the shared config and credentials files (AWS_PROFILE, else `default`), by the SDK's `fromIni`,
 *    whose STS and SSO clients get this package's request handler; a profile whose role takes its
 *    source credentials from IMDS or the container endpoint (`credential_source`) is resolved
 *    here, since the SDK would fetch those outside core;
 * 3. AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (STS AssumeRoleWithWebIdentity);
 * 4. the container credentials endpoint when AWS_CONTAINER_CREDENTIALS_*_URI is set, else IMDS.
 *
 * A source that is absent moves on to the next; a source that is there but fails (IMDS answering
 * 503 for 40 s, STS refusing the role) is the error. "No credentials" is reported only when every
 * source is absent, with what was looked at.
 */
import {
  assertCredentialFresh,
  CloudCallError,
  CredentialProviderError,
} from "@kubelet-credential-provider/core";
import type { Logger as SdkLogger } from "@smithy/types";
import type { AwsCredentials, CallContext } from "./clients.ts";
import { containerCredentials, containerCredentialsConfigured } from "./container-credentials.ts";
import { readTokenFile } from "./credential-answer.ts";
import { MISSING_CREDENTIALS_HINT, toCloudError } from "./errors.ts";
import type { SourceOutcome } from "./imds.ts";
import { imdsCredentials } from "./imds.ts";
import type { CoreHttpHandler } from "./sdk-http-handler.ts";

export interface NodeCredentialsOptions {
  /** The call the credentials are for, in words, for the "no credentials" message. */
  endpoint: string;
  /**
   * The configuration of the SDK clients the SDK's own providers build (STS, SSO), without a
   * region: theirs comes as the SDK's own clients give it (a profile's `region` or `sso_region`
   * first, then the calling client's, here the registry's).
   */
  clientConfig: Record<string, unknown>;
  /** The request handler in `clientConfig`: it names the endpoint an SDK error came from. */
  handler: CoreHttpHandler;
  /** The SDK logger, for the SDK's providers. */
  logger: SdkLogger;
  now?: () => number;
}

export interface NodeCredentials {
  credentials: AwsCredentials;
  /** Where they came from, for the log: `IMDS (instance role node)`. */
  source: string;
}

type Env = CallContext["env"];

// credential_source values that the SDK would resolve over the network, outside core.
const _REMOTE_SOURCES = new Set(["Ec2InstanceMetadata", "EcsContainer"]);

export async function resolveNodeCredentials(
  call: CallContext,
  options: NodeCredentialsOptions,
): Promise<NodeCredentials> {
  const { log, secrets } = call;
  const sources: Array<() => Promise<SourceOutcome>> = [
    async () => _environment(call.env, options),
    () => _profile(call, options),
    () => _webIdentity(call, options),
    () =>
      containerCredentialsConfigured(call.env)
        ? containerCredentials({ ...call, now: options.now })
        : imdsCredentials({ ...call, now: options.now }),
  ];
  const absent: string[] = [];
  for (const source of sources) {
    const outcome = await source();
    if ("credentials" in outcome) {
      secrets.add(outcome.credentials.secretAccessKey);
      secrets.add(outcome.credentials.sessionToken);
      return outcome;
    }
    log.v(3, `credentials: ${outcome.absent}`);
    absent.push(outcome.absent);
  }
  throw new CredentialProviderError(
    "CLOUD_AUTH_FAILED",
    `no AWS credentials for ${options.endpoint}: ${absent.join("; ")}; ${MISSING_CREDENTIALS_HINT}`,
  );
}

function _environment(env: Env, options: NodeCredentialsOptions): SourceOutcome {
  // As the SDK: a named profile wins over the environment's keys.
  if (env.AWS_PROFILE) return { absent: "AWS_ACCESS_KEY_ID is not used while AWS_PROFILE is set" };
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return { absent: "no AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY" };
  const credentials: AwsCredentials = { accessKeyId, secretAccessKey };
  if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
  if (env.AWS_CREDENTIAL_EXPIRATION) {
    credentials.expiration = new Date(env.AWS_CREDENTIAL_EXPIRATION);
    assertCredentialFresh(credentials.expiration, "AWS_CREDENTIAL_EXPIRATION", options.now?.());
  }
  return { credentials, source: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" };
}

async function _profile(call: CallContext, options: NodeCredentialsOptions): Promise<SourceOutcome> {
  const { env } = call;
  const profile = env.AWS_PROFILE || "default";
  const files = {
    profile,
    ...(env.AWS_SHARED_CREDENTIALS_FILE ? { filepath: env.AWS_SHARED_CREDENTIALS_FILE } : {}),
    ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
  };
  const where = `AWS profile ${profile}`;
  try {
    const { parseKnownFiles } = await import("@smithy/core/config");
    const profiles = await parseKnownFiles({ ...files, ignoreCache: true });
    const remote = _remoteCredentialSource(profiles, profile);
    if (remote)
      return await _profileWithRemoteSource(call, options, profile, profiles[profile] ?? {}, remote);
    const { fromIni } = await import("@aws-sdk/credential-provider-ini");
    const identity = await fromIni({
      ...files,
      ignoreCache: true,
      clientConfig: options.clientConfig,
      logger: options.logger,
    })(_asCaller(call, options));
    const credentials: AwsCredentials = {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
    };
    call.secrets.add(identity.secretAccessKey);
    call.secrets.add(identity.sessionToken);
    if (identity.sessionToken) credentials.sessionToken = identity.sessionToken;
    if (identity.expiration) {
      credentials.expiration = identity.expiration;
      assertCredentialFresh(identity.expiration, options.handler.lastEndpoint ?? where, options.now?.());
    }
    return { credentials, source: `${where} (shared config files)` };
  } catch (error) {
    const absent = _absentProfile(error, profile);
    if (absent) return absent;
    throw toCloudError(error, options.handler.lastEndpoint ?? where, call.signal);
  }
}

/**
 * A role profile whose source credentials come from IMDS or the container endpoint. Only the
 * named profile may say so: deeper in a `source_profile` chain it is refused, as the SDK would
 * fetch them outside core.
 */
function _remoteCredentialSource(
  profiles: Record<string, Record<string, string | undefined> | undefined>,
  profile: string,
): string | undefined {
  const seen = new Set<string>();
  for (
    let name: string | undefined = profile;
    name && !seen.has(name);
    name = profiles[name]?.source_profile
  ) {
    seen.add(name);
    const source = profiles[name]?.credential_source;
    if (source && _REMOTE_SOURCES.has(source)) {
      if (name === profile && profiles[name]?.role_arn) return source;
      throw new CredentialProviderError(
        "CONFIG_INVALID",
        `AWS profile ${profile}: its source profile ${name} takes credentials from credential_source = ${source}, which this provider reads only on the profile itself (give ${profile} role_arn and credential_source)`,
      );
    }
  }
  return undefined;
}

async function _profileWithRemoteSource(
  call: CallContext,
  options: NodeCredentialsOptions,
  profile: string,
  data: Record<string, string | undefined>,
  source: string,
): Promise<SourceOutcome> {
  if (data.mfa_serial) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `AWS profile ${profile} needs an MFA code (mfa_serial), which a kubelet plugin cannot ask for`,
    );
  }
  if (source === "EcsContainer" && !containerCredentialsConfigured(call.env)) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `AWS profile ${profile} takes credentials from credential_source = EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set`,
    );
  }
  const sourceOutcome =
    source === "EcsContainer"
      ? await containerCredentials({ ...call, now: options.now })
      : await imdsCredentials({ ...call, now: options.now });
  if (!("credentials" in sourceOutcome)) {
    throw new CredentialProviderError(
      "CLOUD_AUTH_FAILED",
      `AWS profile ${profile} assumes its role with credentials from credential_source = ${source}, and there are none: ${sourceOutcome.absent}`,
    );
  }
  const { STSClient, AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  // As the SDK's profile resolver: the profile's region, else the calling client's.
  const region = data.region || call.region;
  const client = new STSClient({ ...options.clientConfig, region, credentials: sourceOutcome.credentials });
  const endpoint = `STS AssumeRole (${region})`;
  try {
    const duration = Number.parseInt(data.duration_seconds ?? "3600", 10);
    const output = await client.send(
      new AssumeRoleCommand({
        RoleArn: data.role_arn,
        RoleSessionName: data.role_session_name || `aws-sdk-js-${Date.now()}`,
        ...(data.external_id ? { ExternalId: data.external_id } : {}),
        DurationSeconds: Number.isFinite(duration) ? duration : 3600,
      }),
      { abortSignal: call.signal },
    );
    const credentials = readStsCredentials(output.Credentials, endpoint, call, options.now?.());
    return { credentials, source: `AWS profile ${profile} (role ${data.role_arn}, source ${source})` };
  } catch (error) {
    throw toCloudError(error, options.handler.lastEndpoint ?? endpoint, call.signal);
  } finally {
    client.destroy();
  }
}

async function _webIdentity(call: CallContext, options: NodeCredentialsOptions): Promise<SourceOutcome> {
  const { env } = call;
  const file = env.AWS_WEB_IDENTITY_TOKEN_FILE;
  const roleArn = env.AWS_ROLE_ARN;
  if (!file || !roleArn) return { absent: "no AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN" };
  // Read here rather than by the SDK's fromTokenFile, so that the token is registered as a secret.
  const token = await readTokenFile("AWS_WEB_IDENTITY_TOKEN_FILE", file);
  call.secrets.add(token);
  if (!token)
    throw new CredentialProviderError("CONFIG_INVALID", `AWS_WEB_IDENTITY_TOKEN_FILE ${file} is empty`);
  const endpoint = `STS AssumeRoleWithWebIdentity (${call.region})`;
  try {
    const { fromWebToken } = await import("@aws-sdk/credential-provider-web-identity");
    const identity = await fromWebToken({
      roleArn,
      webIdentityToken: token,
      ...(env.AWS_ROLE_SESSION_NAME ? { roleSessionName: env.AWS_ROLE_SESSION_NAME } : {}),
      clientConfig: options.clientConfig,
      logger: options.logger,
    })(_asCaller(call, options));
    const credentials = readStsCredentials(
      {
        AccessKeyId: identity.accessKeyId,
        SecretAccessKey: identity.secretAccessKey,
        SessionToken: identity.sessionToken,
        Expiration: identity.expiration,
      },
      endpoint,
      call,
      options.now?.(),
    );
    return { credentials, source: `AWS_WEB_IDENTITY_TOKEN_FILE (role ${roleArn})` };
  } catch (error) {
    throw toCloudError(error, options.handler.lastEndpoint ?? endpoint, call.signal);
  }
}

/**
 * STS's `Credentials`, registered as secrets, and refused when incomplete or (nearly) expired.
 *
 * @throws CloudCallError `malformed` or `expired`
 */
export function readStsCredentials(
  sts:
    | { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date }
    | undefined,
  endpoint: string,
  call: Pick<CallContext, "secrets">,
  now?: number,
): AwsCredentials {
  call.secrets.add(sts?.SecretAccessKey);
  call.secrets.add(sts?.SessionToken);
  if (!sts?.AccessKeyId || !sts.SecretAccessKey) {
    throw new CloudCallError({ endpoint, fault: "malformed", detail: "answered without credentials" });
  }
  const credentials: AwsCredentials = { accessKeyId: sts.AccessKeyId, secretAccessKey: sts.SecretAccessKey };
  if (sts.SessionToken) credentials.sessionToken = sts.SessionToken;
  if (sts.Expiration) {
    credentials.expiration = sts.Expiration;
    assertCredentialFresh(sts.Expiration, endpoint, now);
  }
  return credentials;
}

/** What the SDK's providers are told of the client they find credentials for: its region and logger. */
function _asCaller(call: CallContext, options: NodeCredentialsOptions) {
  return { callerClientConfig: { region: async () => call.region, logger: options.logger } };
}

/** A profile the files do not have is absent, as the SDK's chain reads it; other failures are errors. */
function _absentProfile(error: unknown, profile: string): SourceOutcome | undefined {
  const shape = error as { name?: unknown; tryNextLink?: unknown };
  if (shape?.name !== "CredentialsProviderError" || shape.tryNextLink === false) return undefined;
  return { absent: `no credentials in AWS profile ${profile} of the shared config files` };
}
