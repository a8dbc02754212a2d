/**
 * `auth-provider-gcp`: Google Artifact Registry and Container Registry credentials for the
 * kubelet, a drop-in for the Go plugin of kubernetes/cloud-provider-gcp
 * (`auth-provider-gcp get-credentials [--authFlow ...]`).
 *
 * For each request: the verb and flags are checked, then the image's registry host (lower-cased)
 * must be a Google registry (hosts.ts); anything else is refused before any token or metadata is
 * asked for. Then, by `--authFlow`:
 *
 * - `gcr` (default): an access token for the identity identity.ts selects (the node's, an
 *   impersonated service account's, GKE workload identity's from STS, or an external workload
 *   identity pool's), username `oauth2accesstoken`, keyed by the registry host, cached by registry
 *   for half the token's remaining validity;
 * - `dockercfg` / `dockercfg-url`: the dockercfg in the instance metadata (or at the URL it names),
 *   only the entries that apply to the image, keyed by their registry.
 *
 * `KUBE_SIDECAR_CACHE_DURATION` and `KUBE_SIDECAR_CACHE_TYPE` override the cache fields. Every
 * failure is an error, never the Go plugin's empty answer.
 */
import type {
  CredentialProviderRequest,
  CredentialProviderResult,
  Provider,
  ProviderContext,
} from "@kubelet-credential-provider/core";
import {
  assertCredentialFresh,
  CredentialProviderError,
  cacheDurationUntil,
  defineProvider,
  packageVersion,
  registryHostOf,
} from "@kubelet-credential-provider/core";
import { applyCacheOverrides, cacheOverrides } from "./cache.ts";
import { parseDockerConfig, selectCredentials } from "./dockercfg.ts";
import { toTokenSourceError } from "./errors.ts";
import type { GcpFlags, GcpOptions } from "./flags.ts";
import { DOCKERCFG_AUTH_FLOW, flags, GCR_AUTH_FLOW, validateOptions } from "./flags.ts";
import type { GoogleRegistry } from "./hosts.ts";
import { describeGoogleRegistry, GCP_MATCH_IMAGES, parseGoogleRegistry } from "./hosts.ts";
import type { GoogleAccessToken, TokenSourceFactory } from "./identity.ts";
import { describeIdentity, ENABLE_WI_IMAGE_PULL_ANNOTATION, selectIdentity } from "./identity.ts";
import { readDockerConfigAttribute, readDockerConfigUrl } from "./metadata.ts";
import { exchangeAtSts } from "./sts.ts";

/** The package's version, from its package.json: the one place a release bumps it. */
export const VERSION = packageVersion(new URL("../package.json", import.meta.url));

/** The registry username that goes with a Google OAuth access token. */
export const ACCESS_TOKEN_USERNAME = "oauth2accesstoken";

/** The provider: run it with core's `runProvider`, or call `getCredentials` as a library. */
export type GcpProvider = Provider<GcpFlags>;

export interface GcpProviderOptions {
  /**
   * Builds the token source for an identity; by default this package's own (token-sources.ts),
   * on core's HTTP client, loaded on first use.
   */
  tokenSourceFactory?: TokenSourceFactory;
  /** The clock for cacheDuration, in ms since the epoch. */
  now?: () => number;
}

/**
 * Builds the provider. Pass `tokenSourceFactory` to get Google tokens from elsewhere (tests,
 * another library): every token it gives must carry its expiry, which is checked as the default
 * sources' are.
 */
export function createGcpProvider(options: GcpProviderOptions = {}): GcpProvider {
  const now = options.now ?? Date.now;
  const factory: TokenSourceFactory =
    options.tokenSourceFactory ??
    (async (spec, context) => (await import("./token-sources.ts")).createTokenSource(spec, context));

  return defineProvider({
    name: "auth-provider-gcp",
    version: VERSION,
    description:
      "Google Artifact Registry and Container Registry credentials for the kubelet: the node's, a service account's or a workload identity's access token, or the instance's dockercfg.",
    flags,
    positionals: [
      {
        name: "get-credentials",
        description: "The command, as for the Go plugin: get-credentials",
        required: true,
      },
    ],
    allowExtraPositionals: true,
    defaultMatchImages: GCP_MATCH_IMAGES,
    async getCredentials(request, context) {
      const { log } = context;
      const gcp = validateOptions(context.flags, context.positionals);
      const overrides = cacheOverrides(context.env);
      const host = registryHostOf(request.image);
      const registry = parseGoogleRegistry(host);
      if (!registry) throw _notGoogle(host);
      log.v(2, `${describeGoogleRegistry(registry)}, authFlow ${gcp.authFlow}`);

      const result =
        gcp.authFlow === GCR_AUTH_FLOW
          ? await _gcrFlow(request, context, gcp, registry, factory, now)
          : await _dockerConfigFlow(request, context, gcp);
      const answer = applyCacheOverrides(result, overrides);
      if (overrides.cacheKeyType || overrides.cacheDuration) {
        log.v(
          2,
          `cache overridden by the environment: cacheKeyType ${answer.cacheKeyType}, cacheDuration ${answer.cacheDuration ?? "(the kubelet's default)"}`,
        );
      }
      return answer;
    },
  });
}

/** The provider with the default token sources: what the executable runs. */
export const provider: GcpProvider = createGcpProvider();

async function _gcrFlow(
  request: CredentialProviderRequest,
  context: ProviderContext<GcpFlags>,
  options: GcpOptions,
  registry: GoogleRegistry,
  factory: TokenSourceFactory,
  now: () => number,
): Promise<CredentialProviderResult> {
  const { log, secrets, signal } = context;
  const identity = selectIdentity(request, options, context.env);
  const what = `access token for ${describeIdentity(identity)}`;
  log.v(2, `identity: ${describeIdentity(identity)}`);

  let token: GoogleAccessToken;
  if (identity.kind === "gkeWorkloadIdentity") {
    token = await exchangeAtSts(
      {
        audience: identity.audience,
        subjectToken: identity.subjectToken,
        encoding: "json",
        hint: "the workload identity pool must trust the cluster's identity provider, and the token's audience must be the pool",
      },
      { http: context.http, log, secrets, now },
    );
  } else {
    token = await _guard(what, signal, async () => {
      const source = await factory(identity, {
        signal,
        deadline: context.deadline,
        env: context.env,
        log,
        secrets,
        http: context.http,
        now,
      });
      return source.getAccessToken();
    });
    if (typeof token?.token === "string") secrets.add(token.token);
    if (typeof token?.token !== "string" || token.token === "") {
      throw new CredentialProviderError("CLOUD_AUTH_FAILED", `${what}: no token was returned`);
    }
    if (!(token.expiresAt instanceof Date) || Number.isNaN(token.expiresAt.getTime())) {
      throw new CredentialProviderError(
        "INVALID_RESPONSE",
        `${what}: the token source gave no expiry (a token of unknown lifetime is not answered)`,
      );
    }
  }
  // The default sources check this too, naming the endpoint; a custom source's token is checked here.
  assertCredentialFresh(token.expiresAt, describeIdentity(identity), now());
  const cacheDuration = cacheDurationUntil(token.expiresAt, { now: now() });
  log.v(3, `${what}: expires ${token.expiresAt.toISOString()}, cacheDuration ${cacheDuration}`);
  return {
    cacheKeyType: "Registry",
    cacheDuration,
    auth: { [registry.host]: { username: ACCESS_TOKEN_USERNAME, password: token.token } },
  };
}

async function _dockerConfigFlow(
  request: CredentialProviderRequest,
  context: ProviderContext<GcpFlags>,
  options: GcpOptions,
): Promise<CredentialProviderResult> {
  const { log, secrets } = context;
  if (request.serviceAccountAnnotations?.[ENABLE_WI_IMAGE_PULL_ANNOTATION] === "true") {
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `the service account opts in to workload identity image pulls (${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"), but --authFlow ${options.authFlow} answers with the instance's dockercfg: use --authFlow gcr`,
    );
  }
  const metadata = { http: context.http, env: context.env, log, secrets };
  const { text, source } =
    options.authFlow === DOCKERCFG_AUTH_FLOW
      ? await readDockerConfigAttribute(metadata)
      : await readDockerConfigUrl(metadata);
  const config = parseDockerConfig(text, source, secrets);
  const { auth, pathScoped } = selectCredentials(config, request.image);
  const keys = Object.keys(auth);
  if (keys.length === 0) {
    const known = Object.keys(config)
      .slice(0, 10)
      .map((key) => JSON.stringify(key))
      .join(", ");
    throw new CredentialProviderError(
      "CONFIG_INVALID",
      `${source} has no credentials for ${request.image} (its registries: ${known || "none"})`,
    );
  }
  log.v(3, `${source}: credentials for ${keys.join(", ")}`);
  // Path-scoped entries make the answer depend on the image's path, not only its registry.
  return { cacheKeyType: pathScoped ? "Image" : "Registry", auth };
}

async function _guard<T>(what: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toTokenSourceError(error, what, signal);
  }
}

function _notGoogle(host: string): CredentialProviderError {
  const bare = host.replace(/:\d+$/, "");
  const hint =
    bare !== host && parseGoogleRegistry(bare)
      ? "Google registries are served on the default port only; drop the port"
      : "expected gcr.io, <region>.gcr.io, <location>-docker.pkg.dev or container.cloud.google.com";
  return new CredentialProviderError(
    "NOT_MY_REGISTRY",
    `${host} is not a Google container registry: ${hint}`,
  );
}
