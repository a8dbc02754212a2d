/**
 * @kubelet-credential-provider/gcp: Google Artifact Registry and Container Registry credentials
 * for the kubelet, as a library. The executable `auth-provider-gcp` is `runProvider(provider)`.
 *
 * ```ts
 * import { createGcpProvider, parseGoogleRegistry } from "@kubelet-credential-provider/gcp";
 * const provider = createGcpProvider({ tokenSourceFactory }); // e.g. a fake in tests
 * parseGoogleRegistry("us-docker.pkg.dev")?.kind; // "Artifact Registry"
 * ```
 *
 * Everything exported here is public API, listed by name (see index.test.ts). No Google client
 * library is used: the metadata server, OAuth2, STS and IAM credentials calls are this package's
 * own, on core's HTTP client, and are imported on the first request that needs a token.
 */

export type { CacheOverrides } from "./cache.ts";
export { CACHE_DURATION_ENV, CACHE_TYPE_ENV, cacheOverrides } from "./cache.ts";
export type { DockerConfig, DockerConfigEntry, SelectedCredentials } from "./dockercfg.ts";
export { decodeDockerConfigAuth, parseDockerConfig, selectCredentials } from "./dockercfg.ts";
export type { AuthFlow, GcpFlags, GcpOptions, RawGcpOptions } from "./flags.ts";
export { AUTH_FLOWS, validateOptions } from "./flags.ts";
export type { GoogleRegistry, GoogleRegistryKind } from "./hosts.ts";
export { GCP_MATCH_IMAGES, parseGoogleRegistry } from "./hosts.ts";
export type {
  GoogleAccessToken,
  IdentitySpec,
  NodeIdentitySpec,
  TokenSource,
  TokenSourceContext,
  TokenSourceFactory,
  TokenSourceSpec,
} from "./identity.ts";
export {
  APPLICATION_CREDENTIALS_ENV,
  ENABLE_WI_IMAGE_PULL_ANNOTATION,
  GCP_SERVICE_ACCOUNT_ANNOTATION,
  selectIdentity,
} from "./identity.ts";
export { metadataBaseUrl } from "./metadata.ts";
export type { GcpProvider, GcpProviderOptions } from "./provider.ts";
export { ACCESS_TOKEN_USERNAME, createGcpProvider, provider } from "./provider.ts";
export { gkeWorkloadIdentityAudience, STS_TOKEN_URL } from "./sts.ts";
