/**
 * @kubelet-credential-provider/core: the kubelet image credential provider protocol, a harness that
 * keeps it, and the SDK to write a provider.
 *
 * ```ts
 * import { defineProvider, runProvider } from "@kubelet-credential-provider/core";
 * const provider = defineProvider({ name, version, description, getCredentials });
 * await runProvider(provider);
 * ```
 *
 * Everything exported here is public API, listed by name so that nothing becomes public by accident
 * (see index.test.ts).
 */

export type {
  ArgsSpec,
  BooleanFlag,
  FlagSpec,
  FlagSpecs,
  FlagValues,
  ListFlag,
  PositionalSpec,
  StringFlag,
} from "./args.ts";
/** A provider's version, from its package.json (or, in a standalone executable, from its build), and its `--version` line. */
export { packageVersion, versionLine } from "./build-info.ts";
export type { Provider, ProviderContext, ProviderDefinition } from "./define.ts";
export { defineProvider } from "./define.ts";
export { formatDurationNanos, parseDurationNanos } from "./duration.ts";
export type { CloudCallErrorDetails, CloudFault, ErrorCode } from "./errors.ts";
export {
  CloudCallError,
  CredentialProviderError,
  errorCodeOf,
  isCloudCallError,
  isCredentialProviderError,
  networkErrorCodes,
  tlsErrorCodes,
} from "./errors.ts";
export type { ProviderIo } from "./harness.ts";
export { runProvider } from "./harness.ts";
export type { HttpClient, HttpClientOptions, HttpRequestOptions, HttpResponse } from "./http.ts";
export { createHttpClient, createHttpResponse, DEFAULT_MAX_RESPONSE_BYTES } from "./http.ts";
export type { ImageReference } from "./image.ts";
export { parseImage, registryHostOf, safeParseImage } from "./image.ts";
/** Where a JSON text is broken, for error messages that must not quote it (or differ by runtime). */
export type { JsonErrorLocation } from "./json-error.ts";
export { locateJsonError } from "./json-error.ts";
export type { Logger, LoggerOptions, LogSink } from "./log.ts";
export { createLogger } from "./log.ts";
export type { SchemelessUrl } from "./match.ts";
export { lookupAuth, normalizeAuthKey, parseSchemelessUrl, urlsMatch } from "./match.ts";
export type { RegistryMirrorOptions, RegistryMirrors } from "./mirrors.ts";
export { parseRegistryMirrors } from "./mirrors.ts";
export type {
  ApiVersion,
  AuthConfig,
  CacheKeyType,
  CredentialProviderRequest,
  CredentialProviderResponse,
  CredentialProviderResult,
} from "./protocol.ts";
export {
  API_VERSION_V1,
  apiVersions,
  cacheKeyTypes,
  credentialProviderResponseSchema,
} from "./protocol.ts";
export { proxyForUrl } from "./proxy.ts";
export type { CacheDurationOptions } from "./sdk-helpers.ts";
export {
  assertCredentialFresh,
  cacheDurationUntil,
  MIN_CREDENTIAL_VALIDITY_MS,
} from "./sdk-helpers.ts";
export { SecretRegistry } from "./secrets.ts";
