/**
 * `acr-credential-provider`: Azure Container Registry credentials for the kubelet, a drop-in for
 * the Go plugin of kubernetes-sigs/cloud-provider-azure (`acr-credential-provider <azure.json>`).
 *
 * For each request: the image's registry must be an ACR login server of the cloud azure.json
 * configures, or a `--registry-mirror` SOURCE whose TARGET is one; anything else is refused
 * before any token is asked for. Then, always: the login server's challenge (`GET /v2/`), an Entra
 * token for ACR from the identity (the service account's application in service-account mode,
 * else azure.json's), and `POST /oauth2/exchange` for an ACR refresh token. The answer is keyed by
 * the login server (and the mirror's host), cached by registry for half the refresh token's
 * remaining validity. An Entra token or a refresh token that has expired, or expires within a
 * minute, is an error, never an answer.
 */
import type { Logger, Provider } from "@kubelet-credential-provider/core";
import {
  assertCredentialFresh,
  CredentialProviderError,
  defineProvider,
  packageVersion,
} from "@kubelet-credential-provider/core";
import type { AzureConfig } from "./azure-config.ts";
import { loadAzureConfig } from "./azure-config.ts";
import { acrExchangeEndpoint, entraTokenEndpoint, IMDS_TOKEN_ENDPOINT } from "./endpoints.ts";
import { toEntraError } from "./errors.ts";
import { exchangeForRefreshToken, fetchChallenge } from "./exchange.ts";
import { describeLoginServer, parseLoginServer, registryOfImage } from "./hosts.ts";
import type { CredentialFactory, IdentitySpec, TokenSource } from "./identity.ts";
import {
  CLIENT_ID_ANNOTATION,
  describeIdentity,
  selectIdentity,
  TENANT_ID_ANNOTATION,
  tenantOf,
} from "./identity.ts";
import {
  clusterCaFile,
  identityBindingsEndpoint,
  identityBindingsTokenSource,
  parseIdentityBindings,
} from "./identity-bindings.ts";
import { parseRegistryMirrors, resolveLoginServer } from "./mirrors.ts";
import { ACR_REFRESH_TOKEN_USERNAME, cacheDurationFor, jwtExpiry } from "./token.ts";

/** The package's version, from its package.json: the one place a release bumps it. */
export const VERSION = packageVersion(new URL("../package.json", import.meta.url));

/** The matchImages AKS configures for the Go plugin. */
export const ACR_MATCH_IMAGES = [
  "*.azurecr.io",
  "*.azurecr.cn",
  "*.azurecr.de",
  "*.azurecr.us",
  "*.*.geo.azurecr.io",
  "*.*.geo.azurecr.cn",
  "*.*.geo.azurecr.de",
  "*.*.geo.azurecr.us",
] as const;

const flags = {
  "registry-mirror": {
    type: "list",
    short: "r",
    placeholder: "SOURCE:TARGET",
    description:
      "Give images on registry SOURCE (host[:port]) the credentials of the ACR login server TARGET, keyed under both",
  },
  "ib-sni-name": {
    type: "string",
    placeholder: "NAME",
    description:
      "AKS identity bindings: get the Entra token from https://NAME/ (the API server's name) with the pod's service account token",
  },
  "ib-apiserver-ip": {
    type: "string",
    placeholder: "ADDRESS",
    description:
      "AKS identity bindings: where NAME is served (an IP address or a DNS name); needed with --ib-sni-name",
  },
  "ib-default-client-id": {
    type: "string",
    placeholder: "ID",
    description: `AKS identity bindings: the application when the service account has no ${CLIENT_ID_ANNOTATION} annotation`,
  },
  "ib-default-tenant-id": {
    type: "string",
    placeholder: "ID",
    description: `AKS identity bindings: the tenant when the service account has no ${TENANT_ID_ANNOTATION} annotation`,
  },
  "ib-ca-file": {
    type: "string",
    placeholder: "FILE",
    description: `AKS identity bindings: the CA that signs the API server's certificate (default ${clusterCaFile()}); only it is trusted`,
  },
} as const;

/** The provider's own flags (besides the built-in --help, --version, -v and --deadline). */
export type AcrFlags = typeof flags;

/** The provider: run it with core's `runProvider`, or call `getCredentials` as a library. */
export type AcrProvider = Provider<AcrFlags>;

export interface AcrProviderOptions {
  /** Builds the Entra token source for an identity; @azure/identity (loaded on first use) by default. */
  credentialFactory?: CredentialFactory;
  /** Reads azure.json and the cluster CA of identity bindings; node:fs by default. */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** The clock for cacheDuration, in ms since the epoch. */
  now?: () => number;
}

/**
 * Builds the provider. Pass `credentialFactory` to get Entra tokens from something other than
 * @azure/identity (tests, another SDK).
 */
export function createAcrProvider(options: AcrProviderOptions = {}): AcrProvider {
  const now = options.now ?? Date.now;
  const readFile = options.readFile ?? _readFile;
  const factory: CredentialFactory =
    options.credentialFactory ??
    (async (spec, context) => (await import("./azure.ts")).createAzureCredential(spec, context));

  return defineProvider({
    name: "acr-credential-provider",
    version: VERSION,
    description:
      "Azure Container Registry credentials for the kubelet: an Entra token from the node's or the service account's identity, exchanged for an ACR refresh token.",
    flags,
    positionals: [
      {
        name: "azure.json",
        description: "The Azure cloud config file (e.g. /etc/kubernetes/azure.json): cloud and identity",
        required: true,
      },
    ],
    defaultMatchImages: ACR_MATCH_IMAGES,
    async getCredentials(request, context) {
      const { log, secrets, signal } = context;
      const mirrors = parseRegistryMirrors(context.flags["registry-mirror"]);
      const bindings = parseIdentityBindings(context.flags);
      const host = registryOfImage(request.image);
      const resolved = resolveLoginServer(host, mirrors);
      if (!resolved) throw _notAcr(host);
      const { server, source } = resolved;
      if (source) log.v(2, `registry ${source} is a mirror of ${server.host} (--registry-mirror)`);
      log.v(2, describeLoginServer(server));

      const file = context.positionals[0] as string; // required: the harness refuses a run without it
      const config = await loadAzureConfig(file, { secrets, readFile });
      const { cloud } = config;
      if (server.suffix !== cloud.loginServerSuffix) throw _otherCloud(server.host, config);

      const identity = selectIdentity(request, config, bindings);
      log.v(2, `identity: ${describeIdentity(identity)} (${cloud.name}, ${cloud.authorityHost})`);

      const exchangeContext = { http: context.http, log, secrets };
      const challenge = await fetchChallenge(server.host, exchangeContext);

      const issuer =
        identity.kind === "identityBinding"
          ? identityBindingsEndpoint(identity.bindings)
          : cloud.authorityHost;
      const what = `Entra token for ${_short(identity)} from ${issuer}`;
      const accessToken = await _guard(what, signal, async () => {
        const credentialContext = {
          cloud,
          signal,
          deadline: context.deadline,
          env: context.env,
          log,
          secrets,
          http: context.http,
        };
        const credential: TokenSource =
          identity.kind === "identityBinding"
            ? identityBindingsTokenSource(identity, credentialContext, { readFile, now })
            : await factory(identity, credentialContext);
        log.v(4, `asking for an Entra token for ${cloud.acrScope}`);
        return credential.getToken(cloud.acrScope, { abortSignal: signal });
      });
      if (!accessToken?.token) {
        throw new CredentialProviderError("CLOUD_AUTH_FAILED", `${what}: no token was returned`);
      }
      secrets.add(accessToken.token);
      log.v(
        3,
        `${what}: expires ${accessToken.expiresOnTimestamp ? new Date(accessToken.expiresOnTimestamp).toISOString() : "(not given)"}`,
      );
      if (accessToken.expiresOnTimestamp !== undefined) {
        assertCredentialFresh(accessToken.expiresOnTimestamp, _tokenEndpoint(identity, config), now());
      }

      const tenant = tenantOf(identity, config);
      const refreshToken = await exchangeForRefreshToken(
        {
          loginServer: server.host,
          service: challenge.service,
          accessToken: accessToken.token,
          ...(tenant !== undefined && { tenant }),
        },
        exchangeContext,
      );
      const cacheDuration = _cacheDuration(refreshToken, server.host, now(), log);

      const keys = source ? [server.host, source] : [server.host];
      const login = { username: ACR_REFRESH_TOKEN_USERNAME, password: refreshToken };
      return {
        cacheKeyType: "Registry",
        cacheDuration,
        auth: Object.fromEntries(keys.map((key) => [key, { ...login }])),
      };
    },
  });
}

/** The provider with @azure/identity: what the executable runs. */
export const provider: AcrProvider = createAcrProvider();

function _cacheDuration(refreshToken: string, loginServer: string, now: number, log: Logger): string {
  const expiry = jwtExpiry(refreshToken);
  if (!expiry) {
    log.v(
      2,
      "warning: the ACR refresh token has no readable exp claim: cacheDuration 0s (the kubelet will not cache it)",
    );
    return "0s";
  }
  assertCredentialFresh(expiry, acrExchangeEndpoint(loginServer), now);
  const cacheDuration = cacheDurationFor(expiry, now);
  log.v(3, `ACR refresh token expires ${expiry.toISOString()}: cacheDuration ${cacheDuration}`);
  return cacheDuration;
}

async function _guard<T>(what: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toEntraError(error, what, signal);
  }
}

/** Where the Entra token came from, as core's errors name it. */
function _tokenEndpoint(identity: IdentitySpec, config: AzureConfig): string {
  if (identity.kind === "managedIdentity") return IMDS_TOKEN_ENDPOINT;
  if (identity.kind === "identityBinding") return identityBindingsEndpoint(identity.bindings);
  return entraTokenEndpoint(config.cloud.authorityHost, identity.tenantId);
}

function _short(identity: IdentitySpec): string {
  switch (identity.kind) {
    case "identityBinding":
      return `identity binding of application ${identity.clientId}`;
    case "serviceAccount":
      return `service account application ${identity.clientId}`;
    case "workloadIdentity":
      return "workload identity";
    case "managedIdentity":
      return identity.clientId || identity.resourceId ? "user-assigned managed identity" : "managed identity";
    case "clientSecret":
    case "clientCertificate":
      return `service principal ${identity.clientId}`;
  }
}

async function _readFile(path: string): Promise<Uint8Array> {
  return process.getBuiltinModule("node:fs/promises").readFile(path);
}

function _notAcr(host: string): CredentialProviderError {
  const bare = host.replace(/:\d+$/, "");
  const hint =
    bare !== host && parseLoginServer(bare)
      ? "ACR login servers are served on the default port only; drop the port"
      : `expected <registry>.azurecr.io (or .cn, .us), <registry>-<hash>.azurecr.io or <registry>.<region>.geo.azurecr.io; map a mirror with --registry-mirror ${host}:<login server>`;
  return new CredentialProviderError(
    "NOT_MY_REGISTRY",
    `${host} is not an Azure Container Registry login server: ${hint}`,
  );
}

function _otherCloud(host: string, config: AzureConfig): CredentialProviderError {
  const clouds: Record<string, string> = {
    "azurecr.io": "AzurePublicCloud",
    "azurecr.cn": "AzureChinaCloud",
    "azurecr.us": "AzureUSGovernmentCloud",
    "azurecr.de": "the retired Azure Germany cloud",
  };
  const suffix = host.slice(host.indexOf(".azurecr.") + 1);
  return new CredentialProviderError(
    "NOT_MY_REGISTRY",
    `${host} is a login server of ${clouds[suffix] ?? suffix}, but ${config.file} configures ${config.cloud.name} (*.${config.cloud.loginServerSuffix}): no Entra token is sent to another cloud's registry`,
  );
}
