/**
 * `ecr-credential-provider`: Amazon ECR and ECR Public credentials for the kubelet, a drop-in for
 * the Go plugin of kubernetes/cloud-provider-aws.
 *
 * For each request: the registry host from the image (lower-cased) must be an ECR host whose DNS
 * suffix is its region's partition's, or a `--registry-mirror` SOURCE whose TARGET is one;
 * anything else is refused before any cloud call.
 * The token comes from `GetAuthorizationToken` in the host's region (ECR Public: us-east-1), signed
 * with the node's credentials, or in service-account mode with a role assumed through
 * `AssumeRoleWithWebIdentity` with the pod's token. The answer is keyed by the registry host (and
 * the mirror's), cached by registry for half the token's remaining validity; a token or a role's
 * credentials that have expired, or expire within a minute, are an error, never an answer.
 */
import type { CredentialProviderRequest, Provider, ProviderContext } from "@kubelet-credential-provider/core";
import {
  assertCredentialFresh,
  CredentialProviderError,
  defineProvider,
  packageVersion,
  registryHostOf,
} from "@kubelet-credential-provider/core";
import type { AwsCredentials, CallContext, EcrClients } from "./clients.ts";
import { endpointOf, toCloudError } from "./errors.ts";
import type { EcrHost } from "./hosts.ts";
import { describeEcrHost, parseEcrHost, partitionMismatch } from "./hosts.ts";
import { lookupMirror, parseRegistryMirrors } from "./mirrors.ts";
import { cacheDurationFor, decodeAuthorizationToken } from "./token.ts";

/** The package's version, from its package.json: the one place a release bumps it. */
export const VERSION = packageVersion(new URL("../package.json", import.meta.url));

/** The service account annotation that names the role to assume, unless --role-arn-annotation says otherwise. */
export const DEFAULT_ROLE_ARN_ANNOTATION = "eks.amazonaws.com/ecr-role-arn";
/** The environment variable that names the role when the annotation is absent. */
export const ROLE_ARN_ENV = "AWS_ECR_ROLE_ARN";
/** The RoleSessionName of every AssumeRoleWithWebIdentity call. */
export const ROLE_SESSION_NAME = "ecr-credential-provider";

/** The matchImages EKS configures for the Go plugin. */
export const ECR_MATCH_IMAGES = [
  "*.dkr.ecr.*.amazonaws.com",
  "*.dkr-ecr.*.on.aws",
  "*.dkr.ecr.*.amazonaws.com.cn",
  "*.dkr-ecr.*.on.amazonwebservices.com.cn",
  "*.dkr.ecr-fips.*.amazonaws.com",
  "*.dkr-ecr-fips.*.on.aws",
  "*.dkr.ecr.*.c2s.ic.gov",
  "*.dkr.ecr.*.sc2s.sgov.gov",
  "*.dkr.ecr.*.cloud.adc-e.uk",
  "*.dkr.ecr.*.csp.hci.ic.gov",
  "*.dkr.ecr.*.amazonaws.eu",
  "public.ecr.aws",
  "ecr-public.aws.com",
] as const;

const flags = {
  "registry-mirror": {
    type: "list",
    placeholder: "SOURCE:TARGET",
    description:
      "Give images on registry SOURCE (host[:port]) the credentials of the ECR registry TARGET, keyed under both",
  },
  "role-arn-annotation": {
    type: "string",
    placeholder: "KEY",
    default: DEFAULT_ROLE_ARN_ANNOTATION,
    description: `Service account annotation with the role to assume in service-account mode (else $${ROLE_ARN_ENV})`,
  },
} as const;

/** The provider's own flags (besides the built-in --help, --version, -v and --deadline). */
export type EcrFlags = typeof flags;

/** The provider: run it with core's `runProvider`, or call `getCredentials` as a library. */
export type EcrProvider = Provider<EcrFlags>;

export interface EcrProviderOptions {
  /** The cloud clients; the AWS SDK ones (loaded on first use) by default. */
  clients?: EcrClients;
  /** The clock for cacheDuration and the credentials' expiry checks, in ms since the epoch. */
  now?: () => number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/;

/**
 * Builds the provider. Pass `clients` to call something other than AWS (tests, another SDK); by
 * default the AWS SDK clients are loaded on the first request that needs them.
 */
export function createEcrProvider(options: EcrProviderOptions = {}): EcrProvider {
  let clients = options.clients;
  const now = options.now ?? Date.now;
  const loadClients = async (): Promise<EcrClients> => {
    clients ??= (await import("./aws.ts")).createAwsClients();
    return clients;
  };

  return defineProvider({
    name: "ecr-credential-provider",
    version: VERSION,
    description:
      "Amazon ECR and ECR Public credentials for the kubelet, from the node's AWS credentials or a service account's role.",
    flags,
    allowExtraPositionals: true,
    defaultMatchImages: ECR_MATCH_IMAGES,
    async getCredentials(request, context) {
      const { log, secrets, signal } = context;
      const mirrors = parseRegistryMirrors(context.flags["registry-mirror"]);
      const host = registryHostOf(request.image);
      const direct = parseEcrHost(host);
      const ecr = direct ?? lookupMirror(mirrors, host);
      if (!ecr) throw _notEcr(host);
      if (!direct) log.v(2, `registry ${host} is a mirror of ${ecr.host} (--registry-mirror)`);
      await _checkPartition(ecr, direct ? undefined : host);
      log.v(2, describeEcrHost(ecr));

      const call: CallContext = {
        region: ecr.region,
        fips: ecr.kind === "private" && ecr.fips,
        dualStack: ecr.kind === "private" && ecr.dualStack,
        signal,
        deadline: context.deadline,
        env: context.env,
        log,
        secrets,
        http: context.http,
      };
      const api = await loadClients();
      const credentials = await _serviceAccountCredentials(request, context, call, api, now);

      const service = ecr.kind === "public" ? "ECR Public" : "ECR";
      const endpoint = endpointOf({ service, operation: "GetAuthorizationToken", region: ecr.region });
      const tokenRequest = credentials ? { ...call, credentials } : call;
      const answer = await _guard(endpoint, signal, () =>
        ecr.kind === "public" ? api.publicToken(tokenRequest) : api.privateToken(tokenRequest),
      );
      secrets.add(answer.token);
      const login = decodeAuthorizationToken(answer.token, service);
      secrets.add(login.password);
      // A token that is (nearly) expired would be cached and refused by the registry.
      if (answer.expiresAt) assertCredentialFresh(answer.expiresAt, endpoint, now());
      const cacheDuration = cacheDurationFor(answer.expiresAt, now());
      log.v(
        3,
        `${service} token for ${ecr.host}: user ${login.username}, expires ${answer.expiresAt?.toISOString() ?? "(not given)"}, cacheDuration ${cacheDuration}`,
      );

      const keys = direct ? [ecr.host] : [host, ecr.host];
      return {
        cacheKeyType: "Registry",
        cacheDuration,
        auth: Object.fromEntries(
          keys.map((key) => [key, { username: login.username, password: login.password }]),
        ),
      };
    },
  });
}

/** The provider with the AWS SDK clients: what the executable runs. */
export const provider: EcrProvider = createEcrProvider();

/**
 * Service-account mode (the request carries a token): the role from the annotation, else from
 * AWS_ECR_ROLE_ARN, assumed with the token; undefined (the node's credentials) without a role.
 */
async function _serviceAccountCredentials(
  request: CredentialProviderRequest,
  context: ProviderContext<EcrFlags>,
  call: CallContext,
  api: EcrClients,
  now: () => number,
): Promise<AwsCredentials | undefined> {
  const { log } = context;
  const token = request.serviceAccountToken;
  if (!token) {
    log.v(3, "no service account token in the request: signing with the node's credentials");
    return undefined;
  }
  const key = context.flags["role-arn-annotation"];
  const fromAnnotation = request.serviceAccountAnnotations?.[key]?.trim();
  const fromEnv = context.env[ROLE_ARN_ENV]?.trim();
  const roleArn = fromAnnotation || fromEnv;
  const source = fromAnnotation ? `service account annotation ${key}` : `$${ROLE_ARN_ENV}`;
  if (!roleArn) {
    log.v(
      3,
      `service-account mode without a role (no annotation ${key}, no $${ROLE_ARN_ENV}): the node's credentials`,
    );
    return undefined;
  }
  if (!ROLE_ARN.test(roleArn)) {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `${source} is ${JSON.stringify(roleArn.slice(0, 200))}, not an IAM role ARN (arn:aws:iam::123456789012:role/name)`,
    );
  }
  log.v(
    3,
    `service-account mode: assuming ${roleArn} (from ${source}) with the pod's token in ${call.region}`,
  );
  const endpoint = endpointOf({
    service: "STS",
    operation: "AssumeRoleWithWebIdentity",
    region: call.region,
  });
  const credentials = await _guard(endpoint, call.signal, () =>
    api.assumeRole({ ...call, roleArn, webIdentityToken: token, sessionName: ROLE_SESSION_NAME }),
  );
  context.secrets.add(credentials.secretAccessKey);
  context.secrets.add(credentials.sessionToken);
  if (credentials.expiration) assertCredentialFresh(credentials.expiration, endpoint, now());
  log.v(3, `credentials: role ${roleArn}, expires ${credentials.expiration?.toISOString() ?? "(not given)"}`);
  return credentials;
}

/** Runs a cloud call and maps whatever it throws to a typed error; the deadline's error wins. */
async function _guard<T>(endpoint: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toCloudError(error, endpoint, signal);
  }
}

/**
 * Refuses, before any call, a private host whose DNS suffix is not its region's partition's, by
 * the AWS SDK's partition table (loaded here, not at start-up).
 *
 * @param mirror the registry host the image named, when `ecr` is its --registry-mirror target
 */
async function _checkPartition(ecr: EcrHost, mirror: string | undefined): Promise<void> {
  if (ecr.kind !== "private") return;
  const { partition } = await import("@aws-sdk/core/client");
  const why = partitionMismatch(ecr, partition);
  if (!why) return;
  if (mirror === undefined) {
    throw new CredentialProviderError("NOT_MY_REGISTRY", `${ecr.host} is not an Amazon ECR registry: ${why}`);
  }
  throw new CredentialProviderError(
    "CONFIG_INVALID",
    `--registry-mirror ${mirror}:${ecr.host}: ${ecr.host} is not an Amazon ECR registry: ${why}`,
  );
}

function _notEcr(host: string): CredentialProviderError {
  const bare = host.replace(/:\d+$/, "");
  const hint =
    bare !== host && parseEcrHost(bare)
      ? "ECR registries are served on the default port only; drop the port"
      : `expected <account>.dkr.ecr.<region>.amazonaws.com (or another partition, FIPS or dual-stack form), public.ecr.aws or ecr-public.aws.com; map a mirror with --registry-mirror ${host}:<ECR registry>`;
  return new CredentialProviderError("NOT_MY_REGISTRY", `${host} is not an Amazon ECR registry: ${hint}`);
}
