/**
 * The kubelet's `CredentialProviderConfig` (kubelet.config.k8s.io v1, v1beta1, v1alpha1): schema,
 * loading and validation, kept exact to the kubelet 1.34 (`readCredentialProviderConfig`, `decode`
 * and `validateCredentialProviderConfig` in k8s.io/kubernetes pkg/credentialprovider/plugin).
 *
 * - {@link parseConfig} decodes one document as strictly as the kubelet's codec: JSON when the text
 *   starts with `{` (after whitespace), otherwise YAML 1.1 as go-yaml reads it; unknown fields,
 *   duplicate keys and wrong types are errors.
 * - {@link validateConfig} applies every validation rule and collects all issues, worded as the
 *   kubelet words them.
 * - {@link loadConfig} reads a file or a directory of files and merges them as the kubelet does.
 *
 * Required-ness (name, matchImages, defaultCacheDuration, tokenAttributes fields) is checked by
 * validation rather than decoding, so a missing field reads like the kubelet's validation error.
 *
 * The code lives in config/, one module per concern; this module is the one the rest of the
 * package imports, and lists its public names.
 */

export { parseConfig } from "./config/decode.ts";
export type { ConfigIssue, FormatConfigIssueOptions } from "./config/issues.ts";
export { assertNoConfigIssues, formatConfigIssue, formatConfigIssues } from "./config/issues.ts";
export type { LoadedConfig } from "./config/load.ts";
export { loadConfig } from "./config/load.ts";
export type {
  ConfigApiVersion,
  CredentialProvider,
  CredentialProviderConfig,
  ExecEnvVar,
  ServiceAccountTokenAttributes,
  ServiceAccountTokenCacheType,
} from "./config/schema.ts";
export {
  CONFIG_API_VERSION_V1,
  CONFIG_API_VERSION_V1ALPHA1,
  CONFIG_API_VERSION_V1BETA1,
  configApiVersions,
  credentialProviderConfigSchemas,
  credentialProviderSchema,
  execEnvVarSchema,
  legacyCredentialProviderSchema,
  serviceAccountTokenAttributesSchema,
  serviceAccountTokenCacheTypes,
} from "./config/schema.ts";
export { validateConfig } from "./config/validate.ts";
