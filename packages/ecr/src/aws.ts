/**
 * The real cloud clients, on the AWS SDK for JavaScript v3. Each SDK package is imported only on
 * the path that needs it (client-ecr for private registries, client-ecr-public for ECR Public,
 * client-sts for a service account's role, credential-provider-node for the node's credentials),
 * so a run loads only what its request needs, and importing this module loads nothing.
 *
 * Every client gets: the region from the registry host; the FIPS / dual-stack endpoint when the
 * host (or AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT) asks for it; the SDK's standard retry
 * mode with 3 attempts; a Node HTTP handler whose https agent honours HTTPS_PROXY/NO_PROXY (the SDK
 * does not) and whose timeouts fit the harness deadline; and the run's abort signal on every send.
 */
import type https from "node:https";
import type { Logger } from "@kubelet-credential-provider/core";
import { CredentialProviderError, createEnvProxyAgent, proxyForUrl } from "@kubelet-credential-provider/core";
import type {
  AssumeRoleRequest,
  AuthorizationToken,
  AwsCredentials,
  CallContext,
  EcrClients,
  TokenRequest,
} from "./clients.ts";

type Env = CallContext["env"];
type Service = "ECR" | "ECR PUBLIC" | "STS";

export interface AwsClientsOptions {
  /** Extra https.Agent options for every AWS connection, e.g. `ca` to trust a private CA. */
  agentOptions?: https.AgentOptions;
}

/** The SDK logger interface, fed into the provider's log at high verbosity. */
interface SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

type CredentialIdentity = AwsCredentials & { $source?: Record<string, unknown> };
type CredentialSource = CredentialIdentity | ((properties?: unknown) => Promise<CredentialIdentity>);

/** The per-attempt timeouts: three attempts and their backoff must fit in what is left of the deadline. */
export function attemptTimeouts(
  deadline: number,
  now = Date.now(),
): { connectionTimeout: number; requestTimeout: number } {
  const requestTimeout = Math.min(10_000, Math.max(1_000, Math.floor((deadline - now) / 4)));
  return { connectionTimeout: Math.min(5_000, requestTimeout), requestTimeout };
}

/** A custom endpoint for `service` from AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL, as the SDK reads them. */
export function configuredEndpoint(env: Env, service: Service): { url: string; from: string } | undefined {
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? "")) return undefined;
  const key = `AWS_ENDPOINT_URL_${service.replaceAll(" ", "_")}`;
  const own = env[key];
  if (own) return { url: own, from: key };
  if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, from: "AWS_ENDPOINT_URL" };
  return undefined;
}

/**
 * Imports what a node's usual request needs: the ECR client, the default credential chain and the
 * HTTP handler. ECR Public and STS stay lazy, for the requests that need them.
 */
export async function loadAwsSdk(): Promise<void> {
  await Promise.all([
    import("@aws-sdk/client-ecr"),
    import("@aws-sdk/credential-provider-node"),
    import("@smithy/node-http-handler"),
  ]);
}

export function createAwsClients(options: AwsClientsOptions = {}): EcrClients {
  return {
    async privateToken(request: TokenRequest): Promise<AuthorizationToken> {
      const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
      const client = new ECRClient(await _clientConfig("ECR", request, options, await _credentials(request)));
      _instrument(client, "ECR", request);
      try {
        const output = await client.send(new GetAuthorizationTokenCommand({}), {
          abortSignal: request.signal,
        });
        const data = output.authorizationData?.[0];
        return _token(data?.authorizationToken, data?.expiresAt, "ECR", request);
      } finally {
        client.destroy();
      }
    },

    async publicToken(request: TokenRequest): Promise<AuthorizationToken> {
      const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr-public");
      const client = new ECRPUBLICClient(
        await _clientConfig("ECR PUBLIC", request, options, await _credentials(request)),
      );
      _instrument(client, "ECR Public", request);
      try {
        const output = await client.send(new GetAuthorizationTokenCommand({}), {
          abortSignal: request.signal,
        });
        const data = output.authorizationData;
        return _token(data?.authorizationToken, data?.expiresAt, "ECR Public", request);
      } finally {
        client.destroy();
      }
    },

    async assumeRole(request: AssumeRoleRequest): Promise<AwsCredentials> {
      const { STSClient, AssumeRoleWithWebIdentityCommand } = await import("@aws-sdk/client-sts");
      // AssumeRoleWithWebIdentity is unsigned: the token is the proof, no credentials are resolved.
      const client = new STSClient(await _clientConfig("STS", request, options, undefined));
      _instrument(client, "STS", request);
      try {
        const output = await client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.sessionName,
            WebIdentityToken: request.webIdentityToken,
          }),
          { abortSignal: request.signal },
        );
        const credentials = output.Credentials;
        request.secrets.add(credentials?.SecretAccessKey);
        request.secrets.add(credentials?.SessionToken);
        if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
          throw new CredentialProviderError(
            "CLOUD_AUTH_FAILED",
            `STS AssumeRoleWithWebIdentity (${request.region}) answered without credentials for ${request.roleArn}`,
          );
        }
        const result: AwsCredentials = {
          accessKeyId: credentials.AccessKeyId,
          secretAccessKey: credentials.SecretAccessKey,
        };
        if (credentials.SessionToken) result.sessionToken = credentials.SessionToken;
        if (credentials.Expiration) result.expiration = credentials.Expiration;
        return result;
      } finally {
        client.destroy();
      }
    },
  };
}

function _token(
  token: string | undefined,
  expiresAt: Date | undefined,
  service: string,
  request: CallContext,
): AuthorizationToken {
  request.secrets.add(token);
  if (!token) {
    throw new CredentialProviderError(
      "CLOUD_AUTH_FAILED",
      `${service} GetAuthorizationToken (${request.region}) answered without an authorization token`,
    );
  }
  return expiresAt === undefined ? { token } : { token, expiresAt };
}

/** The client configuration every SDK client gets. */
async function _clientConfig(
  service: Service,
  request: CallContext,
  options: AwsClientsOptions,
  credentials: CredentialSource | undefined,
) {
  const { env, log } = request;
  const label = service === "ECR PUBLIC" ? "ECR Public" : service;
  const { NodeHttpHandler } = await import("@smithy/node-http-handler");
  const { connectionTimeout, requestTimeout } = attemptTimeouts(request.deadline);
  _checkProxySetting(env);
  const httpsAgent = _retryableProxyErrors(
    await createEnvProxyAgent({ ...options.agentOptions, env, connectTimeoutMs: connectionTimeout }),
  );
  const endpoint = configuredEndpoint(env, service);
  const fips = request.fips || _envFlag(env.AWS_USE_FIPS_ENDPOINT);
  const dualStack = request.dualStack || _envFlag(env.AWS_USE_DUALSTACK_ENDPOINT);
  if (endpoint) {
    log.v(
      3,
      `${label}: endpoint ${endpoint.url} from ${endpoint.from}${fips || dualStack ? " (it replaces the FIPS/dual-stack endpoint)" : ""}`,
    );
  } else if (fips || dualStack) {
    log.v(
      3,
      `${label}: ${[fips && "FIPS", dualStack && "dual-stack"].filter(Boolean).join(" and ")} endpoint in ${request.region}`,
    );
  }
  const logger = _sdkLogger(log);
  return {
    region: request.region,
    // A custom endpoint cannot be combined with the SDK's FIPS/dual-stack flags: it wins.
    ...(endpoint
      ? { endpoint: endpoint.url, useFipsEndpoint: false, useDualstackEndpoint: false }
      : { ...(fips ? { useFipsEndpoint: true } : {}), ...(dualStack ? { useDualstackEndpoint: true } : {}) }),
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    ...(credentials ? { credentials } : {}),
    retryMode: "standard",
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      httpsAgent,
      connectionTimeout,
      requestTimeout,
      throwOnRequestTimeout: true,
      logger,
    }),
  };
}

/** The credentials to sign with: the given ones, else the node's. */
async function _credentials(request: TokenRequest): Promise<CredentialSource> {
  const { env, log, secrets } = request;
  if (request.credentials) {
    secrets.add(request.credentials.secretAccessKey);
    secrets.add(request.credentials.sessionToken);
    return request.credentials;
  }
  // The SDK's fromEnv reads process.env; the harness's env is the one that counts.
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && !env.AWS_PROFILE) {
    secrets.add(env.AWS_SECRET_ACCESS_KEY);
    secrets.add(env.AWS_SESSION_TOKEN);
    log.v(3, "credentials: the node's, from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    const credentials: AwsCredentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    };
    if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
    return credentials;
  }
  log.v(3, "credentials: the node's, from the AWS SDK's default chain");
  const { defaultProvider } = await import("@aws-sdk/credential-provider-node");
  const chain = defaultProvider({
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    ...(env.AWS_SHARED_CREDENTIALS_FILE ? { filepath: env.AWS_SHARED_CREDENTIALS_FILE } : {}),
    ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
    ...(env.AWS_WEB_IDENTITY_TOKEN_FILE ? { webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE } : {}),
    ...(env.AWS_ROLE_ARN ? { roleArn: env.AWS_ROLE_ARN } : {}),
    ...(env.AWS_ROLE_SESSION_NAME ? { roleSessionName: env.AWS_ROLE_SESSION_NAME } : {}),
    logger: _sdkLogger(log),
  }) as (properties?: unknown) => Promise<CredentialIdentity>;
  return async (properties?: unknown) => {
    const credentials = await chain(properties);
    secrets.add(credentials.secretAccessKey);
    secrets.add(credentials.sessionToken);
    const sources = Object.keys(credentials.$source ?? {}).join(", ");
    log.v(3, `credentials: the node's, found by the default chain${sources ? ` (${sources})` : ""}`);
    return credentials;
  };
}

/** Logs each attempt's endpoint and route at -v 4, and its status at -v 5. No headers, no bodies. */
function _instrument(
  client: { middlewareStack: { add(...args: never[]): void } },
  service: string,
  { log, env }: CallContext,
): void {
  type Args = { request?: { hostname?: string; port?: number; path?: string; method?: string } };
  type Next = (args: Args) => Promise<{ response?: { statusCode?: number } }>;
  let attempt = 0;
  const middleware = (next: Next) => async (args: Args) => {
    attempt++;
    const request = args.request;
    if (request?.hostname && log.enabled(4)) {
      const authority = `${request.hostname}${request.port ? `:${request.port}` : ""}`;
      let route = "direct";
      try {
        const proxy = proxyForUrl(new URL(`https://${authority}`), env);
        if (proxy) route = `through proxy ${proxy.host}`;
      } catch {
        route = "through an invalid proxy setting";
      }
      log.v(
        4,
        `${service}: attempt ${attempt}: ${request.method ?? "POST"} https://${authority}${request.path ?? "/"} (${route})`,
      );
    }
    const output = await next(args);
    log.v(5, `${service}: attempt ${attempt}: HTTP ${output.response?.statusCode ?? "?"}`);
    return output;
  };
  (client.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, {
    step: "deserialize",
    priority: "low",
    name: "kubeletCredentialProviderLogAttempt",
  });
}

/**
 * The proxy agent reports a failed tunnel as a plain Error ("proxy HOST: connect ECONNREFUSED …",
 * "proxy HOST refused CONNECT to …: 503"), which the SDK would not retry. Give such errors the
 * Node error code they describe and the SDK's retryable mark, so that a dropped or overloaded proxy
 * is retried like a dropped connection. A proxy that refuses with a 4xx (policy) is not retried.
 */
function _retryableProxyErrors(agent: https.Agent): https.Agent {
  type Callback = (error: Error | null, socket?: unknown) => void;
  const target = agent as unknown as { createConnection(options: unknown, callback: Callback): unknown };
  const original = target.createConnection.bind(agent);
  target.createConnection = (options, callback) =>
    original(options, (error, socket) => {
      if (error && /^proxy /.test(error.message)) {
        const code = /\b(E[A-Z_]{3,})\b/.exec(error.message)?.[1];
        const status = Number(/refused CONNECT to \S+: (\d{3})$/.exec(error.message)?.[1] ?? 0);
        const timedOut = /did not answer CONNECT/.test(error.message);
        if (code || timedOut || status >= 500) {
          Object.assign(error, { code: code ?? (timedOut ? "ETIMEDOUT" : "ECONNRESET"), $retryable: {} });
        }
      }
      callback(error, socket);
    });
  return agent;
}

/** Fails early, as a configuration error, on an HTTPS_PROXY that cannot be used. */
function _checkProxySetting(env: Env): void {
  const raw = env.HTTPS_PROXY ?? env.https_proxy;
  if (!raw) return;
  try {
    proxyForUrl(new URL("https://ecr.amazonaws.com"), { HTTPS_PROXY: raw });
  } catch (error) {
    throw new CredentialProviderError("CONFIG_INVALID", (error as Error).message);
  }
}

function _envFlag(value: string | undefined): boolean {
  return /^true$/i.test(value ?? "");
}

function _sdkLogger(log: Logger): SdkLogger {
  const text = (content: unknown[]) => content.map((c) => (typeof c === "string" ? c : String(c))).join(" ");
  return {
    debug: (...content) => log.v(6, `aws-sdk: ${text(content)}`),
    info: (...content) => log.v(6, `aws-sdk: ${text(content)}`),
    warn: (...content) => log.v(2, `aws-sdk: ${text(content)}`),
    error: (...content) => log.v(2, `aws-sdk: ${text(content)}`),
  };
}
