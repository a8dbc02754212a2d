/**
 * The real cloud clients, on the AWS SDK for JavaScript v3. Each SDK package is imported only on
 * the path that needs it (client-ecr for private registries, client-ecr-public for ECR Public,
 * client-sts for a service account's role, the SDK's profile resolver for the node's credentials),
 * so a run loads only what its request needs, and importing this module loads nothing.
 *
 * Every client gets: the region from the registry host; the FIPS / dual-stack endpoint when the
 * host (or AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT) asks for it; a request handler on
 * the run's `HttpClient` (sdk-http-handler.ts), so that core's timeouts, retry policy, proxy rules
 * and size cap apply to every request, with the SDK's own retries off (`maxAttempts: 1`); and the
 * run's abort signal on every send. The node's credentials come from node-credentials.ts, whose
 * IMDS and container fetches are on the same client.
 */
import type { Logger } from "@kubelet-credential-provider/core";
import { CloudCallError } from "@kubelet-credential-provider/core";
import type { Logger as SdkLogger } from "@smithy/types";
import type {
  AssumeRoleRequest,
  AuthorizationToken,
  AwsCredentials,
  CallContext,
  EcrClients,
  TokenRequest,
} from "./clients.ts";
import { endpointOf, toCloudError } from "./errors.ts";
import type { CoreHttpHandler } from "./sdk-http-handler.ts";

type Env = CallContext["env"];
type Service = "ECR" | "ECR PUBLIC" | "STS";

/** A custom endpoint for `service` from AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL, as the SDK reads them. */
export function configuredEndpoint(env: Env, service: Service): { url: string; from: string } | undefined {
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? "")) return undefined;
  const key = `AWS_ENDPOINT_URL_${service.replaceAll(" ", "_")}`;
  const own = env[key];
  if (own) return { url: own, from: key };
  if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, from: "AWS_ENDPOINT_URL" };
  return undefined;
}

export function createAwsClients(): EcrClients {
  return {
    async privateToken(request: TokenRequest): Promise<AuthorizationToken> {
      const endpoint = endpointOf({
        service: "ECR",
        operation: "GetAuthorizationToken",
        region: request.region,
      });
      const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
      const config = await _clientConfig("ECR", endpoint, request);
      const credentials = await _credentials(request, endpoint, config);
      const client = new ECRClient({ ...config, credentials });
      try {
        const output = await client.send(new GetAuthorizationTokenCommand({}), {
          abortSignal: request.signal,
        });
        const data = output.authorizationData?.[0];
        return _token(data?.authorizationToken, data?.expiresAt, endpoint, request);
      } catch (error) {
        throw toCloudError(error, endpoint, request.signal);
      } finally {
        client.destroy();
      }
    },

    async publicToken(request: TokenRequest): Promise<AuthorizationToken> {
      const endpoint = endpointOf({
        service: "ECR Public",
        operation: "GetAuthorizationToken",
        region: request.region,
      });
      const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr-public");
      const config = await _clientConfig("ECR PUBLIC", endpoint, request);
      const credentials = await _credentials(request, endpoint, config);
      const client = new ECRPUBLICClient({ ...config, credentials });
      try {
        const output = await client.send(new GetAuthorizationTokenCommand({}), {
          abortSignal: request.signal,
        });
        const data = output.authorizationData;
        return _token(data?.authorizationToken, data?.expiresAt, endpoint, request);
      } catch (error) {
        throw toCloudError(error, endpoint, request.signal);
      } finally {
        client.destroy();
      }
    },

    async assumeRole(request: AssumeRoleRequest): Promise<AwsCredentials> {
      const endpoint = endpointOf({
        service: "STS",
        operation: "AssumeRoleWithWebIdentity",
        region: request.region,
      });
      const [{ STSClient, AssumeRoleWithWebIdentityCommand }, { readStsCredentials }] = await Promise.all([
        import("@aws-sdk/client-sts"),
        import("./node-credentials.ts"),
      ]);
      // AssumeRoleWithWebIdentity is unsigned: the token is the proof, no credentials are resolved.
      const config = await _clientConfig("STS", endpoint, request);
      const client = new STSClient(config);
      try {
        const output = await client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.sessionName,
            WebIdentityToken: request.webIdentityToken,
          }),
          { abortSignal: request.signal },
        );
        return readStsCredentials(output.Credentials, endpoint, request);
      } catch (error) {
        throw toCloudError(error, endpoint, request.signal);
      } finally {
        client.destroy();
      }
    },
  };
}

function _token(
  token: string | undefined,
  expiresAt: Date | undefined,
  endpoint: string,
  request: CallContext,
): AuthorizationToken {
  request.secrets.add(token);
  if (!token) {
    throw new CloudCallError({
      endpoint,
      fault: "malformed",
      detail: "answered without an authorization token",
    });
  }
  return expiresAt === undefined ? { token } : { token, expiresAt };
}

/** The client configuration every SDK client gets, with its request handler on core's client. */
async function _clientConfig(service: Service, endpoint: string, request: CallContext) {
  const { env, log } = request;
  const label = service === "ECR PUBLIC" ? "ECR Public" : service;
  const { CoreHttpHandler } = await import("./sdk-http-handler.ts");
  const handler = new CoreHttpHandler({ http: request.http, log, env, endpoint: () => endpoint });
  const custom = configuredEndpoint(env, service);
  const fips = request.fips || _envFlag(env.AWS_USE_FIPS_ENDPOINT);
  const dualStack = request.dualStack || _envFlag(env.AWS_USE_DUALSTACK_ENDPOINT);
  if (custom) {
    log.v(
      3,
      `${label}: endpoint ${custom.url} from ${custom.from}${fips || dualStack ? " (it replaces the FIPS/dual-stack endpoint)" : ""}`,
    );
  } else if (fips || dualStack) {
    log.v(
      3,
      `${label}: ${[fips && "FIPS", dualStack && "dual-stack"].filter(Boolean).join(" and ")} endpoint in ${request.region}`,
    );
  }
  return {
    region: request.region,
    // A custom endpoint cannot be combined with the SDK's FIPS/dual-stack flags: it wins.
    ...(custom
      ? { endpoint: custom.url, useFipsEndpoint: false, useDualstackEndpoint: false }
      : { ...(fips ? { useFipsEndpoint: true } : {}), ...(dualStack ? { useDualstackEndpoint: true } : {}) }),
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    ...sdkClientBase(handler, log),
  };
}

/**
 * What every SDK client is given, the ones the SDK's credential providers build included: the
 * request handler, no retries of its own (core's are the only ones), the legacy defaults mode
 * (the "auto" mode would ask IMDS for the region, outside core) and the provider's log.
 */
export function sdkClientBase(handler: CoreHttpHandler, log: Logger) {
  return {
    requestHandler: handler,
    maxAttempts: 1,
    retryMode: "standard",
    defaultsMode: "legacy",
    logger: sdkLogger(log),
  } as const;
}

/** The credentials to sign with: the given ones (a service account's role), else the node's. */
async function _credentials(
  request: TokenRequest,
  endpoint: string,
  config: Awaited<ReturnType<typeof _clientConfig>>,
): Promise<AwsCredentials> {
  const { log, secrets } = request;
  if (request.credentials) {
    secrets.add(request.credentials.secretAccessKey);
    secrets.add(request.credentials.sessionToken);
    return request.credentials;
  }
  const { resolveNodeCredentials } = await import("./node-credentials.ts");
  // The STS/SSO clients the SDK's providers build get a handler that names each request by itself.
  const { CoreHttpHandler } = await import("./sdk-http-handler.ts");
  const nested = new CoreHttpHandler({ http: request.http, log, env: request.env });
  const { credentials, source } = await resolveNodeCredentials(request, {
    endpoint,
    clientConfig: sdkClientBase(nested, log),
    handler: nested,
    logger: config.logger,
  });
  log.v(3, `credentials: the node's, from ${source}`);
  return credentials;
}

function _envFlag(value: string | undefined): boolean {
  return /^true$/i.test(value ?? "");
}

/** The SDK logger interface, fed into the provider's log at high verbosity. */
export function sdkLogger(log: Logger): SdkLogger {
  const text = (content: unknown[]) => content.map((c) => (typeof c === "string" ? c : String(c))).join(" ");
  return {
    debug: (...content) => log.v(6, `aws-sdk: ${text(content)}`),
    info: (...content) => log.v(6, `aws-sdk: ${text(content)}`),
    warn: (...content) => log.v(2, `aws-sdk: ${text(content)}`),
    error: (...content) => log.v(2, `aws-sdk: ${text(content)}`),
  };
}
